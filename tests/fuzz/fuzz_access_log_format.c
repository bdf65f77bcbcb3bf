/* libFuzzer: arbitrary bytes as an access log text format (the config parser), then, when it
 * compiles, rendered against a record with every field set and one with every field unset. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/accesslog/format.h"
#include "proxy/accesslog/info.h"
#include "proxy/core/arena.h"
#include "proxy/http/headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct or_alog_format *f = NULL;
    struct or_err_detail err;
    if (or_alog_format_compile_text((const char *)data, size, size > 0 && (data[0] & 1), &f, &err,
                                    "fuzz") != 0)
        return 0;
    struct or_arena arena;
    or_arena_init(&arena, 0);
    struct or_headers req, resp;
    or_headers_init(&req, &arena);
    or_headers_init(&resp, &arena);
    or_headers_add(&req, ":method", 7, "GET", 3);
    or_headers_add(&req, ":path", 5, "/a/b?c=d", 8);
    or_headers_add(&req, "user-agent", 10, "fuzz\"\n\\", 7);
    or_headers_add(&resp, ":status", 7, "200", 3);
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(1234)};
    inet_pton(AF_INET, "10.1.2.3", &peer.sin_addr);
    struct or_access_log_info full = {
        .req_headers = &req,
        .resp_headers = &resp,
        .start_time = {1700000000, 123456789},
        .duration_ns = 1234567,
        .request_duration_ns = 1000,
        .request_tx_duration_ns = -1,
        .response_duration_ns = 2000,
        .downstream_tx_end_ns = -1,
        .response_code = 200,
        .response_code_details = OR_STR_LIT("via_upstream"),
        .response_flags = 0x3f,
        .bytes_received = 5,
        .bytes_sent = 7,
        .protocol = OR_STR_LIT("HTTP/1.1"),
        .upstream_host = (struct sockaddr *)&peer,
        .upstream_cluster = OR_STR_LIT("c"),
        .downstream_remote_addr = (struct sockaddr *)&peer,
        .downstream_local_addr = (struct sockaddr *)&peer,
    };
    struct or_access_log_info empty = {
        .duration_ns = -1,
        .request_duration_ns = -1,
        .request_tx_duration_ns = -1,
        .response_duration_ns = -1,
        .downstream_tx_end_ns = -1,
    };
    struct or_alog_buf out = {0};
    or_alog_format_render(f, &full, NULL, &out);
    or_alog_format_render(f, &empty, NULL, &out);
    or_alog_buf_free(&out);
    or_alog_format_free(f);
    or_arena_deinit(&arena);
    return 0;
}
