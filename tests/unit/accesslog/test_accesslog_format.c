/* Access log formatter: Envoy's default format, every operator, truncation, START_TIME subformats,
 * response flags, JSON (typed, untyped, omit_empty_values, sorted, escaping) and bad formats. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "envoy/config/core/v3/substitution_format_string.pb-c.h"
#include "proxy/accesslog/flags.h"
#include "proxy/accesslog/format.h"
#include "proxy/config/reflect.h"
#include "proxy/http/headers.h"
#include "proxy/http/stream.h"

/* The stream's flag bits must be the access log's. */
_Static_assert((unsigned)OR_AL_RF_NR == (unsigned)OR_RF_NR, "OR_AL_RF_NR != OR_RF_NR");
_Static_assert((unsigned)OR_AL_RF_UH == (unsigned)OR_RF_UH, "OR_AL_RF_UH != OR_RF_UH");
_Static_assert((unsigned)OR_AL_RF_UF == (unsigned)OR_RF_UF, "OR_AL_RF_UF != OR_RF_UF");
_Static_assert((unsigned)OR_AL_RF_UO == (unsigned)OR_RF_UO, "OR_AL_RF_UO != OR_RF_UO");
_Static_assert((unsigned)OR_AL_RF_UT == (unsigned)OR_RF_UT, "OR_AL_RF_UT != OR_RF_UT");
_Static_assert((unsigned)OR_AL_RF_UC == (unsigned)OR_RF_UC, "OR_AL_RF_UC != OR_RF_UC");
_Static_assert((unsigned)OR_AL_RF_URX == (unsigned)OR_RF_URX, "OR_AL_RF_URX != OR_RF_URX");
_Static_assert((unsigned)OR_AL_RF_DC == (unsigned)OR_RF_DC, "OR_AL_RF_DC != OR_RF_DC");
_Static_assert((unsigned)OR_AL_RF_LR == (unsigned)OR_RF_LR, "OR_AL_RF_LR != OR_RF_LR");
_Static_assert((unsigned)OR_AL_RF_LH == (unsigned)OR_RF_LH, "OR_AL_RF_LH != OR_RF_LH");
_Static_assert((unsigned)OR_AL_RF_DPE == (unsigned)OR_RF_DPE, "OR_AL_RF_DPE != OR_RF_DPE");
_Static_assert((unsigned)OR_AL_RF_SI == (unsigned)OR_RF_SI, "OR_AL_RF_SI != OR_RF_SI");

/* 2016-04-15T20:17:00.310123456Z, Envoy's documentation example. */
#define T_SEC 1460751420
#define T_NSEC 310123456

struct fixture {
    struct or_arena arena;
    struct or_headers req, resp, trailers;
    struct sockaddr_in down_remote, down_local, up_host, up_local;
    struct sockaddr_in6 v6;
    struct sockaddr_un un;
    struct or_access_log_info info;
};

static struct sockaddr_in v4(const char *ip, unsigned port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static void hadd(struct or_headers *h, const char *n, const char *v)
{
    assert_int_equal(or_headers_add(h, n, strlen(n), v, strlen(v)), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    or_arena_init(&f->arena, 0);
    or_headers_init(&f->req, &f->arena);
    or_headers_init(&f->resp, &f->arena);
    or_headers_init(&f->trailers, &f->arena);
    hadd(&f->req, ":method", "POST");
    hadd(&f->req, ":path", "/api/v1/locations");
    hadd(&f->req, ":authority", "locations");
    hadd(&f->req, "x-forwarded-for", "10.0.35.28");
    hadd(&f->req, "user-agent", "nsq2http");
    hadd(&f->req, "x-request-id", "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2");
    hadd(&f->resp, ":status", "204");
    hadd(&f->resp, "x-envoy-upstream-service-time", "100");
    hadd(&f->resp, "content-type", "text/plain");
    hadd(&f->trailers, "grpc-status", "14");
    f->down_remote = v4("10.0.35.28", 51234);
    f->down_local = v4("10.0.0.1", 15000);
    f->up_host = v4("10.0.2.1", 80);
    f->up_local = v4("10.0.0.1", 40000);
    memset(&f->v6, 0, sizeof(f->v6));
    f->v6.sin6_family = AF_INET6;
    f->v6.sin6_port = htons(8443);
    inet_pton(AF_INET6, "2001:db8::1", &f->v6.sin6_addr);
    memset(&f->un, 0, sizeof(f->un));
    f->un.sun_family = AF_UNIX;
    snprintf(f->un.sun_path, sizeof(f->un.sun_path), "%s", "/tmp/admin.sock");

    struct or_access_log_info *in = &f->info;
    in->req_headers = &f->req;
    in->resp_headers = &f->resp;
    in->resp_trailers = &f->trailers;
    in->start_time.tv_sec = T_SEC;
    in->start_time.tv_nsec = T_NSEC;
    in->duration_ns = 226999999; /* 226.999999 ms: Envoy truncates to 226 */
    in->request_duration_ns = 12000000;
    in->request_tx_duration_ns = 13000000;
    in->response_duration_ns = 120000000;
    in->downstream_tx_end_ns = -1;
    in->response_code = 204;
    in->response_code_details = or_str_cstr("via_upstream");
    in->bytes_received = 154;
    in->bytes_sent = 0;
    in->protocol = or_str_cstr("HTTP/2");
    in->upstream_protocol = or_str_cstr("HTTP/1.1");
    in->upstream_host = (const struct sockaddr *)&f->up_host;
    in->upstream_local_addr = (const struct sockaddr *)&f->up_local;
    in->upstream_cluster = or_str_cstr("cds_egress_mesh_locations");
    in->upstream_attempt_count = 1;
    in->downstream_local_addr = (const struct sockaddr *)&f->down_local;
    in->downstream_remote_addr = (const struct sockaddr *)&f->down_remote;
    in->connection_id = 42;
    in->route_name = or_str_cstr("route_a");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    or_arena_deinit(&f->arena);
    free(f);
    return 0;
}

/* Renders `fmt` (text) against info and returns a malloc'd NUL-terminated line. */
static char *render_text(const char *fmt, bool omit, const struct or_access_log_info *in)
{
    struct or_alog_format *f = NULL;
    struct or_err_detail err = {0};
    int rc = or_alog_format_compile_text(fmt, strlen(fmt), omit, &f, &err, "fmt");
    if (rc != 0)
        fail_msg("compile '%s': %s: %s", fmt, err.path, err.msg);
    struct or_alog_cache *c = or_alog_cache_new(f);
    struct or_alog_buf b = {0};
    or_alog_format_render(f, in, c, &b);
    assert_false(b.oom);
    char *s = strndup(b.p ? b.p : "", b.len);
    or_alog_buf_free(&b);
    or_alog_cache_free(c);
    or_alog_format_free(f);
    return s;
}

static void expect_text(const char *fmt, const struct or_access_log_info *in, const char *want)
{
    char *got = render_text(fmt, false, in);
    if (strcmp(got, want) != 0)
        fail_msg("format '%s'\n  want '%s'\n  got  '%s'", fmt, want, got);
    free(got);
}

/* Parses a SubstitutionFormatString from YAML and compiles it. */
static struct or_alog_format *sfs_compile(const char *yaml, struct or_err_detail *err, int *rc)
{
    ProtobufCMessage *m = NULL;
    struct or_err_detail perr = {0};
    if (or_config_parse(yaml, strlen(yaml),
                        &envoy__config__core__v3__substitution_format_string__descriptor, &m,
                        &perr) != 0)
        fail_msg("yaml: %s: %s", perr.path, perr.msg);
    struct or_alog_format *f = NULL;
    *rc = or_alog_format_from_proto((const Envoy__Config__Core__V3__SubstitutionFormatString *)m,
                                    &f, err, "log_format");
    or_config_free(m);
    return f;
}

static char *render_sfs(const char *yaml, const struct or_access_log_info *in)
{
    struct or_err_detail err = {0};
    int rc;
    struct or_alog_format *f = sfs_compile(yaml, &err, &rc);
    if (rc != 0)
        fail_msg("compile: %s: %s", err.path, err.msg);
    struct or_alog_buf b = {0};
    or_alog_format_render(f, in, NULL, &b);
    char *s = strndup(b.p ? b.p : "", b.len);
    or_alog_buf_free(&b);
    or_alog_format_free(f);
    return s;
}

static void expect_sfs(const char *yaml, const struct or_access_log_info *in, const char *want)
{
    char *got = render_sfs(yaml, in);
    if (strcmp(got, want) != 0)
        fail_msg("format %s\n  want '%s'\n  got  '%s'", yaml, want, got);
    free(got);
}

static void expect_error(const char *fmt, const char *want_msg)
{
    struct or_alog_format *f = NULL;
    struct or_err_detail err = {0};
    int rc = or_alog_format_compile_text(fmt, strlen(fmt), false, &f, &err,
                                         "access_log[0].typed_config.log_format.text_format");
    if (rc == 0)
        fail_msg("format '%s' was accepted", fmt);
    assert_int_equal(rc, OR_EINVAL);
    assert_null(f);
    assert_string_equal(err.path, "access_log[0].typed_config.log_format.text_format");
    if (strcmp(err.msg, want_msg) != 0)
        fail_msg("format '%s'\n  want '%s'\n  got  '%s'", fmt, want_msg, err.msg);
}

/* ---------------------------------------------------------------------------------------------
 */

static void test_default_format_golden(void **state)
{
    struct fixture *f = *state;
    expect_text(OR_ALOG_DEFAULT_FORMAT, &f->info,
                "[2016-04-15T20:17:00.310Z] \"POST /api/v1/locations HTTP/2\" 204 - 154 0 226 100 "
                "\"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" "
                "\"locations\" \"10.0.2.1:80\"\n");

    /* x-envoy-original-path wins over :path; a flag shows up in place of "-". */
    hadd(&f->req, "x-envoy-original-path", "/original");
    f->info.response_flags = OR_AL_RF_UF;
    f->info.response_code = 503;
    expect_text(OR_ALOG_DEFAULT_FORMAT, &f->info,
                "[2016-04-15T20:17:00.310Z] \"POST /original HTTP/2\" 503 UF 154 0 226 100 "
                "\"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" "
                "\"locations\" \"10.0.2.1:80\"\n");
}

static void test_default_format_missing_values(void **state)
{
    (void)state;
    struct or_access_log_info in;
    memset(&in, 0, sizeof(in));
    in.start_time.tv_sec = T_SEC;
    in.duration_ns = in.request_duration_ns = in.response_duration_ns = -1;
    in.request_tx_duration_ns = in.downstream_tx_end_ns = -1;
    expect_text(OR_ALOG_DEFAULT_FORMAT, &in,
                "[2016-04-15T20:17:00.000Z] \"- - -\" 0 - 0 0 - - \"-\" \"-\" \"-\" \"-\" \"-\"\n");
    /* omit_empty_values: unset values print as nothing. */
    char *s = render_text(OR_ALOG_DEFAULT_FORMAT, true, &in);
    assert_string_equal(s,
                        "[2016-04-15T20:17:00.000Z] \"  \" 0 - 0 0   \"\" \"\" \"\" \"\" \"\"\n");
    free(s);
}

static void test_operators(void **state)
{
    struct fixture *f = *state;
    const struct or_access_log_info *in = &f->info;
    static const struct {
        const char *fmt;
        const char *want;
    } cases[] = {
        {"%PROTOCOL%", "HTTP/2"},
        {"%UPSTREAM_PROTOCOL%", "HTTP/1.1"},
        {"%RESPONSE_CODE%", "204"},
        {"%RESPONSE_CODE_DETAILS%", "via_upstream"},
        {"%CONNECTION_TERMINATION_DETAILS%", "-"},
        {"%RESPONSE_FLAGS%", "-"},
        {"%BYTES_RECEIVED% %BYTES_SENT%", "154 0"},
        {"%DURATION%", "226"},
        {"%REQUEST_DURATION%", "12"},
        {"%REQUEST_TX_DURATION%", "13"},
        {"%RESPONSE_DURATION%", "120"},
        {"%RESPONSE_TX_DURATION%", "106"},
        {"%UPSTREAM_HOST%", "10.0.2.1:80"},
        {"%UPSTREAM_CLUSTER%", "cds_egress_mesh_locations"},
        {"%UPSTREAM_CLUSTER_RAW%", "cds_egress_mesh_locations"},
        {"%UPSTREAM_LOCAL_ADDRESS%", "10.0.0.1:40000"},
        {"%UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%", "10.0.0.1"},
        {"%UPSTREAM_LOCAL_PORT%", "40000"},
        {"%UPSTREAM_REMOTE_ADDRESS%", "10.0.2.1:80"},
        {"%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", "10.0.2.1"},
        {"%UPSTREAM_REMOTE_PORT%", "80"},
        {"%DOWNSTREAM_REMOTE_ADDRESS%", "10.0.35.28:51234"},
        {"%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", "10.0.35.28"},
        {"%DOWNSTREAM_REMOTE_PORT%", "51234"},
        {"%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%", "10.0.35.28:51234"},
        {"%DOWNSTREAM_LOCAL_ADDRESS%", "10.0.0.1:15000"},
        {"%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%", "10.0.0.1"},
        {"%DOWNSTREAM_LOCAL_PORT%", "15000"},
        {"%UPSTREAM_REQUEST_ATTEMPT_COUNT%", "1"},
        {"%CONNECTION_ID%", "42"},
        {"%ROUTE_NAME%", "route_a"},
        {"%REQUESTED_SERVER_NAME%", "-"},
        {"%UPSTREAM_TRANSPORT_FAILURE_REASON%", "-"},
        {"%STREAM_ID%", "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2"},
        {"%REQ(:METHOD)% %REQ(:path)% %REQ(:AUTHORITY)%", "POST /api/v1/locations locations"},
        {"%REQ(USER-AGENT)%", "nsq2http"},
        {"%REQ(X-MISSING)%", "-"},
        {"%REQ(X-MISSING?USER-AGENT)%", "nsq2http"},
        {"%REQ(USER-AGENT?X-FORWARDED-FOR)%", "nsq2http"},
        {"%REQ(X-MISSING?X-ALSO-MISSING)%", "-"},
        {"%RESP(CONTENT-TYPE)%", "text/plain"},
        {"%RESP(:STATUS)%", "204"},
        {"%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%", "100"},
        {"%TRAILER(GRPC-STATUS)%", "14"},
        {"%TRAILER(X-NONE)%", "-"},
        {"%GRPC_STATUS%", "Unavailable"},
        {"%GRPC_STATUS(CAMEL_STRING)%", "Unavailable"},
        {"%GRPC_STATUS(SNAKE_STRING)%", "UNAVAILABLE"},
        {"%GRPC_STATUS(NUMBER)%", "14"},
        {"%GRPC_STATUS_NUMBER%", "14"},
        {"%REQUEST_HEADERS_BYTES%", "143"},
        {"%RESPONSE_HEADERS_BYTES%", "64"},
        {"%RESPONSE_TRAILERS_BYTES%", "13"},
        {"%LOCAL_REPLY_BODY%", ""},
        {"%DYNAMIC_METADATA(com.test:key)%", "-"},
        {"%FILTER_STATE(some.key:PLAIN)%", "-"},
        {"%DOWNSTREAM_TLS_VERSION%", "-"},
        {"%UPSTREAM_WIRE_BYTES_SENT%", "0"},
        {"100%% done %%%PROTOCOL%%%", "100% done %HTTP/2%"},
        {"plain text", "plain text"},
        {"", ""},
        {"%ENVIRONMENT(OR_TEST_ACCESSLOG_ENV)%", "env-value"},
        {"%ENVIRONMENT(OR_TEST_ACCESSLOG_ENV):3%", "env"},
        {"%ENVIRONMENT(OR_TEST_ACCESSLOG_NOPE)%", "-"},
    };
    setenv("OR_TEST_ACCESSLOG_ENV", "env-value", 1);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_text(cases[i].fmt, in, cases[i].want);
}

static void test_addresses(void **state)
{
    struct fixture *f = *state;
    struct or_access_log_info in = f->info;
    in.downstream_remote_addr = (const struct sockaddr *)&f->v6;
    in.downstream_direct_remote_addr = (const struct sockaddr *)&f->down_remote;
    in.downstream_local_addr = (const struct sockaddr *)&f->un;
    in.upstream_host = NULL;
    in.upstream_cluster = OR_STR_NULL;
    expect_text("%DOWNSTREAM_REMOTE_ADDRESS%", &in, "[2001:db8::1]:8443");
    expect_text("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", &in, "2001:db8::1");
    expect_text("%DOWNSTREAM_REMOTE_PORT%", &in, "8443");
    expect_text("%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%", &in, "10.0.35.28:51234");
    expect_text("%DOWNSTREAM_LOCAL_ADDRESS%", &in, "/tmp/admin.sock");
    expect_text("%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%", &in, "/tmp/admin.sock");
    expect_text("%DOWNSTREAM_LOCAL_PORT%", &in, "");
    expect_text("%UPSTREAM_HOST% %UPSTREAM_CLUSTER%", &in, "- -");
}

static void test_truncation(void **state)
{
    struct fixture *f = *state;
    expect_text("%REQ(USER-AGENT):5%", &f->info, "nsq2h");
    expect_text("%REQ(USER-AGENT):0%", &f->info, "");
    expect_text("%REQ(USER-AGENT):100%", &f->info, "nsq2http");
    expect_text("%REQ(X-MISSING?X-REQUEST-ID):8%", &f->info, "cc21d9b0");
    expect_text("%RESP(CONTENT-TYPE):4%|", &f->info, "text|");
    expect_text("%TRAILER(GRPC-STATUS):1%", &f->info, "1");
    expect_text("%REQ(X-MISSING):3%", &f->info, "-");
}

static void test_start_time(void **state)
{
    struct fixture *f = *state;
    struct or_access_log_info *in = &f->info;
    expect_text("%START_TIME%", in, "2016-04-15T20:17:00.310Z");
    expect_text("%START_TIME(%Y/%m/%dT%H:%M:%S%z %s)%", in, "2016/04/15T20:17:00+0000 1460751420");
    expect_text("%START_TIME(%s.%3f)%", in, "1460751420.310");
    expect_text("%START_TIME(%s.%6f)%", in, "1460751420.310123");
    expect_text("%START_TIME(%s.%9f)%", in, "1460751420.310123456");
    expect_text("%START_TIME(%f)%", in, "310123456");
    expect_text("%START_TIME(%1f|%2f|%3f)%", in, "3|31|310");
    expect_text("%START_TIME(%Y-%m-%d %H:%M:%S.%3f %Z)%", in, "2016-04-15 20:17:00.310 UTC");
    expect_text("%START_TIME(%Ez %E3S %E*S %E4Y)%", in, "+00:00 00.000 00 2016");
    expect_text("%START_TIME(%b %e %a %j %%)%", in, "Apr 15 Fri 106 %");
    expect_text("%START_TIME()%", in, "2016-04-15T20:17:00.310Z");
    expect_text("[%START_TIME(%s)%] [%START_TIME%]", in, "[1460751420] [2016-04-15T20:17:00.310Z]");

    /* The per-second cache: same second, other fraction; then the next second. */
    struct or_alog_format *fmt = NULL;
    const char *s = "%START_TIME(%H:%M:%S.%3f)% %START_TIME%";
    assert_int_equal(or_alog_format_compile_text(s, strlen(s), false, &fmt, NULL, ""), 0);
    struct or_alog_cache *c = or_alog_cache_new(fmt);
    static const struct {
        long sec, nsec;
        const char *want;
    } steps[] = {
        {T_SEC, T_NSEC, "20:17:00.310 2016-04-15T20:17:00.310Z"},
        {T_SEC, 999999999, "20:17:00.999 2016-04-15T20:17:00.999Z"},
        {T_SEC + 1, 5000000, "20:17:01.005 2016-04-15T20:17:01.005Z"},
        {T_SEC + 3600, 0, "21:17:00.000 2016-04-15T21:17:00.000Z"},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        in->start_time.tv_sec = steps[i].sec;
        in->start_time.tv_nsec = steps[i].nsec;
        struct or_alog_buf b = {0};
        or_alog_format_render(fmt, in, c, &b);
        assert_int_equal(b.len, strlen(steps[i].want));
        assert_memory_equal(b.p, steps[i].want, b.len);
        or_alog_buf_free(&b);
    }
    or_alog_cache_free(c);
    or_alog_format_free(fmt);
}

static void test_response_flags(void **state)
{
    struct fixture *f = *state;
    struct or_access_log_info *in = &f->info;
    /* No route: 404 NR; connect failure: 503 UF; timeout: 504 UT. */
    in->response_flags = OR_AL_RF_NR;
    in->response_code = 404;
    in->upstream_host = NULL;
    in->upstream_cluster = OR_STR_NULL;
    in->response_code_details = or_str_cstr("route_not_found");
    expect_text("%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_HOST% %UPSTREAM_CLUSTER% "
                "%RESPONSE_CODE_DETAILS%",
                in, "404 NR - - route_not_found");
    in->response_flags = OR_AL_RF_UF;
    in->response_code = 503;
    in->upstream_host = (const struct sockaddr *)&f->up_host;
    in->upstream_cluster = or_str_cstr("backend");
    in->response_code_details =
        or_str_cstr("upstream_reset_before_response_started{connection_failure}");
    expect_text("%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_HOST% %UPSTREAM_CLUSTER% "
                "%RESPONSE_CODE_DETAILS%",
                in,
                "503 UF 10.0.2.1:80 backend "
                "upstream_reset_before_response_started{connection_failure}");
    in->response_flags = OR_AL_RF_UT;
    in->response_code = 504;
    in->response_code_details = or_str_cstr("upstream_response_timeout");
    expect_text("%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_FLAGS_LONG%", in,
                "504 UT UpstreamRequestTimeout");

    /* The same three cases as whole default-format and JSON lines. */
    static const char json[] =
        "json_format: {start_time: '%START_TIME%', method: '%REQ(:METHOD)%', "
        "path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%', protocol: '%PROTOCOL%', "
        "response_code: '%RESPONSE_CODE%', response_flags: '%RESPONSE_FLAGS%', "
        "details: '%RESPONSE_CODE_DETAILS%', bytes_received: '%BYTES_RECEIVED%', "
        "bytes_sent: '%BYTES_SENT%', duration: '%DURATION%', "
        "upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%', "
        "upstream_host: '%UPSTREAM_HOST%', upstream_cluster: '%UPSTREAM_CLUSTER%'}";
    struct or_access_log_info local = *in;
    local.resp_headers = NULL; /* local replies carry no x-envoy-upstream-service-time */
    local.bytes_sent = 19;
    local.response_flags = OR_AL_RF_NR;
    local.response_code = 404;
    local.upstream_host = NULL;
    local.upstream_cluster = OR_STR_NULL;
    local.response_code_details = or_str_cstr("route_not_found");
    expect_text(OR_ALOG_DEFAULT_FORMAT, &local,
                "[2016-04-15T20:17:00.310Z] \"POST /api/v1/locations HTTP/2\" 404 NR 154 19 226 - "
                "\"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" "
                "\"locations\" \"-\"\n");
    expect_sfs(json, &local,
               "{\"start_time\":\"2016-04-15T20:17:00.310Z\",\"method\":\"POST\","
               "\"path\":\"/api/v1/locations\",\"protocol\":\"HTTP/2\",\"response_code\":404,"
               "\"response_flags\":\"NR\",\"details\":\"route_not_found\",\"bytes_received\":154,"
               "\"bytes_sent\":19,\"duration\":226,\"upstream_service_time\":null,"
               "\"upstream_host\":null,\"upstream_cluster\":null}\n");
    local.response_flags = OR_AL_RF_UF;
    local.response_code = 503;
    local.bytes_sent = 91;
    local.upstream_host = (const struct sockaddr *)&f->up_host;
    local.upstream_cluster = or_str_cstr("backend");
    local.response_code_details =
        or_str_cstr("upstream_reset_before_response_started{connection_failure}");
    expect_text(OR_ALOG_DEFAULT_FORMAT, &local,
                "[2016-04-15T20:17:00.310Z] \"POST /api/v1/locations HTTP/2\" 503 UF 154 91 226 - "
                "\"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" "
                "\"locations\" \"10.0.2.1:80\"\n");
    expect_sfs(json, &local,
               "{\"start_time\":\"2016-04-15T20:17:00.310Z\",\"method\":\"POST\","
               "\"path\":\"/api/v1/locations\",\"protocol\":\"HTTP/2\",\"response_code\":503,"
               "\"response_flags\":\"UF\","
               "\"details\":\"upstream_reset_before_response_started{connection_failure}\","
               "\"bytes_received\":154,\"bytes_sent\":91,\"duration\":226,"
               "\"upstream_service_time\":null,\"upstream_host\":\"10.0.2.1:80\","
               "\"upstream_cluster\":\"backend\"}\n");
    local.response_flags = OR_AL_RF_UT;
    local.response_code = 504;
    local.bytes_sent = 24;
    local.response_code_details = or_str_cstr("upstream_response_timeout");
    expect_text(OR_ALOG_DEFAULT_FORMAT, &local,
                "[2016-04-15T20:17:00.310Z] \"POST /api/v1/locations HTTP/2\" 504 UT 154 24 226 - "
                "\"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" "
                "\"locations\" \"10.0.2.1:80\"\n");
    expect_sfs(json, &local,
               "{\"start_time\":\"2016-04-15T20:17:00.310Z\",\"method\":\"POST\","
               "\"path\":\"/api/v1/locations\",\"protocol\":\"HTTP/2\",\"response_code\":504,"
               "\"response_flags\":\"UT\",\"details\":\"upstream_response_timeout\","
               "\"bytes_received\":154,\"bytes_sent\":24,\"duration\":226,"
               "\"upstream_service_time\":null,\"upstream_host\":\"10.0.2.1:80\","
               "\"upstream_cluster\":\"backend\"}\n");

    /* Several flags come out in Envoy's order, not bit order. */
    in->response_flags = OR_AL_RF_URX | OR_AL_RF_UF;
    expect_text("%RESPONSE_FLAGS%", in, "UF,URX");
    in->response_flags = OR_AL_RF_NR | OR_AL_RF_UH | OR_AL_RF_LH | OR_AL_RF_DC | OR_AL_RF_SI;
    expect_text("%RESPONSE_FLAGS%", in, "LH,UH,NR,DC,SI");
    in->response_flags = 0xffffffffu;
    expect_text("%RESPONSE_FLAGS%", in,
                "LH,UH,UT,LR,UR,UF,UC,UO,NR,DI,FI,RL,UAEX,RLSE,DC,URX,SI,IH,DPE,UMSDR,RFCF,NFCF,DT,"
                "UPE,NC,OM,DF,DO,DR");

    char buf[8];
    assert_int_equal(or_access_log_flags_str(OR_AL_RF_UF | OR_AL_RF_UO, false, buf, sizeof(buf)),
                     5);
    assert_string_equal(buf, "UF,UO");
    assert_int_equal(or_access_log_flags_str(0, false, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "-");
    assert_int_equal(or_access_log_flags_str(OR_AL_RF_UAEX | OR_AL_RF_UMSDR, false, buf, 4), 10);
    assert_string_equal(buf, "UAE");
    assert_int_equal(or_access_log_flag_parse("URX", 3), OR_AL_RF_URX);
    assert_int_equal(or_access_log_flag_parse("XX", 2), 0);
}

static void test_json_typed_golden(void **state)
{
    struct fixture *f = *state;
    f->info.response_duration_ns = -1;
    const char *yaml = "json_format:\n"
                       "  start: '%START_TIME%'\n"
                       "  method: '%REQ(:METHOD)%'\n"
                       "  protocol: '%PROTOCOL%'\n"
                       "  code: '%RESPONSE_CODE%'\n"
                       "  flags: '%RESPONSE_FLAGS%'\n"
                       "  duration: '%DURATION%'\n"
                       "  bytes: '%BYTES_RECEIVED%'\n"
                       "  missing: '%REQ(X-MISSING)%'\n"
                       "  no_duration: '%RESPONSE_TX_DURATION%'\n"
                       "  mixed: '%DURATION%ms %REQ(X-MISSING)%'\n"
                       "  const: 'literal'\n"
                       "  number: 5\n"
                       "  frac: 1.5\n"
                       "  nested: {cluster: '%UPSTREAM_CLUSTER%', host: '%UPSTREAM_HOST%'}\n"
                       "  list: ['%BYTES_SENT%', 'x', '%REQ(X-MISSING)%']\n"
                       "  grpc: '%GRPC_STATUS(NUMBER)%'\n";
    expect_sfs(
        yaml, &f->info,
        "{\"start\":\"2016-04-15T20:17:00.310Z\",\"method\":\"POST\",\"protocol\":\"HTTP/2\","
        "\"code\":204,\"flags\":\"-\",\"duration\":226,\"bytes\":154,\"missing\":null,"
        "\"no_duration\":null,\"mixed\":\"226ms -\",\"const\":\"literal\",\"number\":5,"
        "\"frac\":1.5,\"nested\":{\"cluster\":\"cds_egress_mesh_locations\","
        "\"host\":\"10.0.2.1:80\"},\"list\":[0,\"x\",null],\"grpc\":14}\n");

    /* omit_empty_values drops the nulls (also in lists) and prints unset parts of strings as "". */
    size_t omit_len = strlen(yaml) + 64;
    char *with_omit = malloc(omit_len);
    snprintf(with_omit, omit_len, "omit_empty_values: true\n%s", yaml);
    expect_sfs(
        with_omit, &f->info,
        "{\"start\":\"2016-04-15T20:17:00.310Z\",\"method\":\"POST\",\"protocol\":\"HTTP/2\","
        "\"code\":204,\"flags\":\"-\",\"duration\":226,\"bytes\":154,"
        "\"mixed\":\"226ms \",\"const\":\"literal\",\"number\":5,"
        "\"frac\":1.5,\"nested\":{\"cluster\":\"cds_egress_mesh_locations\","
        "\"host\":\"10.0.2.1:80\"},\"list\":[0,\"x\"],\"grpc\":14}\n");
    free(with_omit);

    /* json_format_options.sort_properties sorts keys at every level. */
    expect_sfs("json_format: {b: '%RESPONSE_CODE%', a: {z: '1', y: '2'}, c: 'x'}\n"
               "json_format_options: {sort_properties: true}\n",
               &f->info, "{\"a\":{\"y\":\"2\",\"z\":\"1\"},\"b\":204,\"c\":\"x\"}\n");
    /* Empty object. */
    expect_sfs("json_format: {}\n", &f->info, "{}\n");
}

static void test_json_escaping(void **state)
{
    struct fixture *f = *state;
    hadd(&f->req, "x-evil", "a\"b\\c\nd\te\x01 \xc3\xa9");
    expect_sfs("json_format: {\"k\\\"ey\": '%REQ(X-EVIL)%', both: '%REQ(X-EVIL)%!'}\n", &f->info,
               "{\"k\\\"ey\":\"a\\\"b\\\\c\\nd\\te\\u0001 \xc3\xa9\","
               "\"both\":\"a\\\"b\\\\c\\nd\\te\\u0001 \xc3\xa9!\"}\n");
}

static void test_json_untyped_legacy(void **state)
{
    struct fixture *f = *state;
    ProtobufCMessage *m = NULL;
    const char *yaml = "{code: '%RESPONSE_CODE%', missing: '%REQ(X-NOPE)%', n: 3, d: '%DURATION%'}";
    assert_int_equal(
        or_config_parse(yaml, strlen(yaml), &google__protobuf__struct__descriptor, &m, NULL), 0);
    struct or_alog_format *fmt = NULL;
    assert_int_equal(or_alog_format_compile_json((const Google__Protobuf__Struct *)m, false, false,
                                                 false, &fmt, NULL, "json_format"),
                     0);
    struct or_alog_buf b = {0};
    or_alog_format_render(fmt, &f->info, NULL, &b);
    const char *want = "{\"code\":\"204\",\"missing\":\"-\",\"n\":\"3\",\"d\":\"226\"}\n";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.p, want, b.len);
    or_alog_buf_free(&b);
    or_alog_format_free(fmt);
    or_config_free(m);
}

static void test_text_sources(void **state)
{
    struct fixture *f = *state;
    expect_sfs("text_format_source: {inline_string: \"%RESPONSE_CODE% %PROTOCOL%\\n\"}", &f->info,
               "204 HTTP/2\n");
    expect_sfs("text_format_source: {inline_bytes: \"JVJFU1BPTlNFX0NPREUl\"}", &f->info, "204");
    expect_sfs("text_format: \"[%RESPONSE_FLAGS%]\"", &f->info, "[-]");
    expect_sfs("text_format_source: {inline_string: \"%REQ(X-NOPE)%|\"}\nomit_empty_values: true",
               &f->info, "|");

    char path[] = "/tmp/or_al_fmt_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "%REQ(:METHOD)% from file\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char yaml[128];
    snprintf(yaml, sizeof(yaml), "text_format_source: {filename: %s}", path);
    expect_sfs(yaml, &f->info, "POST from file\n");
    unlink(path);

    struct or_err_detail err = {0};
    int rc;
    assert_null(sfs_compile("text_format_source: {filename: /nonexistent/fmt}", &err, &rc));
    assert_int_equal(rc, OR_EINVAL);
    assert_string_equal(err.path, "log_format.text_format_source.filename");
    assert_null(sfs_compile("omit_empty_values: true", &err, &rc));
    assert_int_equal(rc, OR_EINVAL);
    assert_string_equal(err.path, "log_format");
}

static void test_bad_formats(void **state)
{
    (void)state;
    expect_error("%FOO%", "Not supported field in StreamInfo: FOO");
    expect_error("%UPSTREAM_SERVICE_TIME%",
                 "Not supported field in StreamInfo: UPSTREAM_SERVICE_TIME");
    expect_error("%REQUEST_ID%", "Not supported field in StreamInfo: REQUEST_ID");
    expect_error("%REQ%", "REQ requires parameters");
    expect_error("%REQ()%", "REQ requires parameters");
    expect_error("%PROTOCOL(x)%", "PROTOCOL does not take any parameters or length");
    expect_error("%DURATION:3%", "DURATION does not take any parameters or length");
    expect_error("%START_TIME:3%", "START_TIME does not allow length to be specified.");
    expect_error("%REQ(A?B?C)%", "More than 1 alternative header specified in token: A?B?C");
    expect_error("%START_TIME(%n)%",
                 "Invalid header configuration. Format string contains newline.");
    expect_error("%REQ(a\nb)%", "Invalid header configuration. Format string contains newline.");
    expect_error("%GRPC_STATUS(FOO)%",
                 "GrpcStatusFormatter only supports CAMEL_STRING, SNAKE_STRING or NUMBER.");
    expect_error("%FILTER_STATE()%", "Invalid filter state configuration, key cannot be empty.");
    expect_error("%FILTER_STATE(k:XML)%",
                 "Invalid filter state serialize type, only support PLAIN/TYPED.");
    expect_error("abc %",
                 "Incorrect configuration: abc %. Couldn't find valid command at position 4");
    expect_error("x %req(a)%",
                 "Incorrect configuration: x %req(a)%. Couldn't find valid command at "
                 "position 2");
    expect_error("%REQ(a",
                 "Incorrect configuration: %REQ(a. Couldn't find valid command at position 0");
    expect_error("%REQ(a):%", "Incorrect configuration: %REQ(a):%. Couldn't find valid command at "
                              "position 0");
    expect_error("%REQ(a):12x%", "Incorrect configuration: %REQ(a):12x%. Couldn't find valid "
                                 "command at position 0");
    expect_error("%REQ(a):99999999999999999999999%",
                 "Length must be an integer, given: 99999999999999999999999");
    expect_error("ok %PROTOCOL% then %", "Incorrect configuration: ok %PROTOCOL% then %. Couldn't "
                                         "find valid command at position 19");

    /* JSON: unsupported value kinds name the member. */
    struct or_err_detail err = {0};
    int rc;
    assert_null(sfs_compile("json_format: {a: '%RESPONSE_CODE%', b: {c: true}}", &err, &rc));
    assert_int_equal(rc, OR_EINVAL);
    assert_string_equal(err.path, "log_format.json_format.b.c");
    assert_string_equal(err.msg, "Only string values, nested structs, list values and number "
                                 "values are supported in structured access log format.");
    assert_null(sfs_compile("json_format: {a: [x, '%BAD%']}", &err, &rc));
    assert_string_equal(err.path, "log_format.json_format.a[1]");
    assert_string_equal(err.msg, "Not supported field in StreamInfo: BAD");
    assert_null(sfs_compile("json_format: {a: null}", &err, &rc));
    assert_string_equal(err.path, "log_format.json_format.a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_format_golden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_format_missing_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_addresses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_typed_golden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_untyped_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_formats, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
