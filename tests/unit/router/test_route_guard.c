/* The translator's unknown-field guard: a field of the subset that the translator does not
 * handle must be an error naming it. Every field of today's subset is handled, so the guard is
 * exercised directly (the .c is included to reach its static functions, h2o style). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proxy/config/translate_route.c"

static void expect_guard(const ProtobufCMessage *m, const char *const *handled, const char *path)
{
    struct or_err_detail err = {0};
    assert_int_equal(check_fields(m, handled, "route_config.x", &err), OR_EINVAL);
    assert_string_equal(err.path, path);
    assert_non_null(strstr(err.msg, "field not supported"));
}

static void test_guard(void **state)
{
    static const char *const only_prefix[] = {"prefix", NULL};
    struct or_err_detail err = {0};

    Envoy__Config__Route__V3__RouteMatch m = ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__INIT;
    /* Nothing set: fine whatever is handled. */
    assert_int_equal(check_fields(&m.base, only_prefix, "p", &err), 0);

    /* Oneof member. */
    m.path_specifier_case = ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PATH;
    m.path = "/a";
    expect_guard(&m.base, only_prefix, "route_config.x.path");
    m.path_specifier_case = ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PREFIX;
    m.prefix = "/";
    assert_int_equal(check_fields(&m.base, only_prefix, "p", &err), 0);

    /* Message field. */
    Google__Protobuf__BoolValue bv = GOOGLE__PROTOBUF__BOOL_VALUE__INIT;
    m.case_sensitive = &bv;
    expect_guard(&m.base, only_prefix, "route_config.x.case_sensitive");
    m.case_sensitive = NULL;

    /* Repeated field. */
    Envoy__Config__Route__V3__HeaderMatcher hm = ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__INIT;
    Envoy__Config__Route__V3__HeaderMatcher *hms[] = {&hm};
    m.n_headers = 1;
    m.headers = hms;
    expect_guard(&m.base, only_prefix, "route_config.x.headers");

    /* Scalars: uint32, bool, enum, string. */
    static const char *const none[] = {NULL};
    Envoy__Config__Route__V3__RedirectAction ra = ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__INIT;
    assert_int_equal(check_fields(&ra.base, none, "p", &err), 0);
    ra.port_redirect = 1;
    expect_guard(&ra.base, none, "route_config.x.port_redirect");
    ra.port_redirect = 0;
    ra.strip_query = 1;
    expect_guard(&ra.base, none, "route_config.x.strip_query");
    ra.strip_query = 0;
    ra.response_code = ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__REDIRECT_RESPONSE_CODE__FOUND;
    expect_guard(&ra.base, none, "route_config.x.response_code");
    ra.response_code = 0;
    ra.host_redirect = "h";
    expect_guard(&ra.base, none, "route_config.x.host_redirect");
    ra.host_redirect = "";
    assert_int_equal(check_fields(&ra.base, none, "p", &err), 0);

    /* Bytes. */
    Envoy__Config__Core__V3__DataSource ds = ENVOY__CONFIG__CORE__V3__DATA_SOURCE__INIT;
    ds.specifier_case = ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_INLINE_BYTES;
    ds.inline_bytes.len = 0;
    /* A oneof member counts as set even when empty. */
    expect_guard(&ds.base, none, "route_config.x.inline_bytes");
}

static void test_sub_paths(void **state)
{
    char out[PATH_MAX_LEN];
    sub(out, "", "a");
    assert_string_equal(out, "a");
    sub(out, NULL, "b[%d]", 1);
    assert_string_equal(out, "b[1]");
    sub(out, "x", "[%d]", 2);
    assert_string_equal(out, "x[2]");
    sub(out, "x.y", "z");
    assert_string_equal(out, "x.y.z");
    sub(out, "x.y", "%s", "");
    assert_string_equal(out, "x.y");
    char longp[PATH_MAX_LEN + 50];
    memset(longp, 'p', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    sub(out, longp, "tail");
    assert_int_equal(strlen(out), PATH_MAX_LEN - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guard),
        cmocka_unit_test(test_sub_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
