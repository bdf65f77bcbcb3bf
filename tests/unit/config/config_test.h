/* Helpers shared by the tests/unit/config tests (header-only: each test is its own executable). */
#ifndef OR_TEST_CONFIG_TEST_H
#define OR_TEST_CONFIG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/config/load.h"
#include "proxy/config/reflect.h"
#include "proxy/config/types.h"

/* Parses `text` as `d` and fails the test (printing the error) unless it is accepted. */
static inline ProtobufCMessage *parse_ok(const char *text, const ProtobufCMessageDescriptor *d)
{
    struct or_err_detail e;
    ProtobufCMessage *m = NULL;
    memset(&e, 0, sizeof(e));
    int rc = or_config_parse(text, strlen(text), d, &m, &e);
    if (rc != 0)
        fail_msg("unexpected error %d at '%s': %s\n--- input ---\n%s", rc, e.path, e.msg, text);
    assert_non_null(m);
    return m;
}

/* Expects `text` to be rejected with exactly `path` and a message containing `msg_part`. */
static inline void parse_err(const char *text, const ProtobufCMessageDescriptor *d,
                             const char *path, const char *msg_part)
{
    struct or_err_detail e;
    ProtobufCMessage *m = NULL;
    memset(&e, 0, sizeof(e));
    int rc = or_config_parse(text, strlen(text), d, &m, &e);
    if (rc == 0) {
        or_config_free(m);
        fail_msg("accepted, expected error '%s' at '%s'\n--- input ---\n%s", msg_part, path, text);
    }
    assert_int_equal(rc, OR_EINVAL);
    assert_null(m);
    if (strcmp(e.path, path) != 0 || strstr(e.msg, msg_part) == NULL)
        fail_msg("error was '%s': '%s'\nexpected '%s': '...%s...'", e.path, e.msg, path, msg_part);
}

/* The compact JSON of `m`, compared with `want`. */
static inline void assert_json(const ProtobufCMessage *m, const char *want)
{
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(or_config_to_json(m, false, &json, &len), 0);
    assert_int_equal(strlen(json), len);
    if (strcmp(json, want) != 0)
        fail_msg("json mismatch\n got: %s\nwant: %s", json, want);
    free(json);
}

/* Parses `text` as `d` and checks its compact JSON. */
static inline void parse_json_eq(const char *text, const ProtobufCMessageDescriptor *d,
                                 const char *want)
{
    ProtobufCMessage *m = parse_ok(text, d);
    assert_json(m, want);
    or_config_free(m);
}

#endif
