/* Scalar field kinds of the YAML/JSON -> protobuf-c loader: strings, bools, every integer width
 * with its range errors, float/double, enums, bytes. */
#include "config_test.h"

#include <math.h>

#include "envoy/config/cluster/v3/cluster.pb-c.h"
#include "envoy/config/core/v3/address.pb-c.h"
#include "envoy/config/core/v3/base.pb-c.h"
#include "envoy/config/route/v3/route_components.pb-c.h"
#include "envoy/type/matcher/v3/string.pb-c.h"
#include "envoy/type/v3/percent.pb-c.h"
#include "envoy/type/v3/range.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"

#define CLUSTER (&envoy__config__cluster__v3__cluster__descriptor)
#define SOCKADDR (&envoy__config__core__v3__socket_address__descriptor)
#define I64R (&envoy__type__v3__int64_range__descriptor)
#define I32R (&envoy__type__v3__int32_range__descriptor)
#define DBLR (&envoy__type__v3__double_range__descriptor)

static void test_string(void **state)
{
    Envoy__Config__Cluster__V3__Cluster *c = (void *)parse_ok("name: backend\n", CLUSTER);
    assert_string_equal(c->name, "backend");
    or_config_free(&c->base);

    /* quoted, plain numbers and plain bools are all text for a string field */
    c = (void *)parse_ok("name: '8080'", CLUSTER);
    assert_string_equal(c->name, "8080");
    or_config_free(&c->base);
    c = (void *)parse_ok("name: 8080", CLUSTER);
    assert_string_equal(c->name, "8080");
    or_config_free(&c->base);
    c = (void *)parse_ok("name: \"h\\u00e9llo\\n\"", CLUSTER);
    assert_string_equal(c->name, "h\xc3\xa9llo\n");
    or_config_free(&c->base);
    c = (void *)parse_ok("name: |\n  two\n  lines\n", CLUSTER);
    assert_string_equal(c->name, "two\nlines\n");
    or_config_free(&c->base);
    /* null leaves the field unset; an explicit "" is the empty string */
    c = (void *)parse_ok("name: ~", CLUSTER);
    assert_string_equal(c->name, "");
    or_config_free(&c->base);
    c = (void *)parse_ok("name: ''", CLUSTER);
    assert_string_equal(c->name, "");
    or_config_free(&c->base);

    parse_err("name: [a]", CLUSTER, "name", "expected a string, got a list");
    parse_err("name: {a: 1}", CLUSTER, "name", "expected a string, got a mapping");
    parse_err("name: \"a\\0b\"", CLUSTER, "name", "NUL");
    parse_err("connect_timeout: \"1s\\0x\"", CLUSTER, "connect_timeout", "NUL");
    parse_err("lb_policy: \"RANDOM\\0\"", CLUSTER, "lb_policy", "NUL");
}

static void test_bool(void **state)
{
    Envoy__Config__Core__V3__SocketAddress *a =
        (void *)parse_ok("address: ::1\nipv4_compat: true", SOCKADDR);
    assert_true(a->ipv4_compat);
    assert_string_equal(a->address, "::1");
    or_config_free(&a->base);
    a = (void *)parse_ok("ipv4_compat: false", SOCKADDR);
    assert_false(a->ipv4_compat);
    or_config_free(&a->base);
    a = (void *)parse_ok("{\"ipv4_compat\": \"true\"}", SOCKADDR);
    assert_true(a->ipv4_compat);
    or_config_free(&a->base);
    a = (void *)parse_ok("ipv4_compat: yes", SOCKADDR);
    assert_true(a->ipv4_compat);
    or_config_free(&a->base);
    a = (void *)parse_ok("ipv4_compat: True", SOCKADDR);
    assert_true(a->ipv4_compat);
    or_config_free(&a->base);

    parse_err("ipv4_compat: 1", SOCKADDR, "ipv4_compat", "invalid bool '1'");
    parse_err("ipv4_compat: 'yes'", SOCKADDR, "ipv4_compat", "invalid bool 'yes'");
    parse_err("ipv4_compat: maybe", SOCKADDR, "ipv4_compat", "invalid bool");
    parse_err("ipv4_compat: []", SOCKADDR, "ipv4_compat", "expected a bool, got a list");
}

static void test_uint32(void **state)
{
    Envoy__Config__Core__V3__SocketAddress *a = (void *)parse_ok("port_value: 65535", SOCKADDR);
    assert_int_equal(a->port_value, 65535);
    assert_int_equal(a->port_specifier_case,
                     ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE);
    or_config_free(&a->base);
    a = (void *)parse_ok("port_value: '8080'", SOCKADDR); /* proto3 JSON: numbers as strings */
    assert_int_equal(a->port_value, 8080);
    or_config_free(&a->base);
    a = (void *)parse_ok("port_value: 4294967295", SOCKADDR);
    assert_int_equal(a->port_value, 4294967295u);
    or_config_free(&a->base);
    a = (void *)parse_ok("port_value: 1e3", SOCKADDR); /* integral exponent form */
    assert_int_equal(a->port_value, 1000);
    or_config_free(&a->base);
    a = (void *)parse_ok("port_value: 0", SOCKADDR); /* a oneof member set to 0 is still set */
    assert_int_equal(a->port_specifier_case,
                     ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE);
    or_config_free(&a->base);

    parse_err("port_value: 4294967296", SOCKADDR, "port_value",
              "value '4294967296' out of range for uint32");
    parse_err("port_value: -1", SOCKADDR, "port_value", "value '-1' out of range for uint32");
    parse_err("port_value: 1.5", SOCKADDR, "port_value", "invalid uint32 value '1.5'");
    parse_err("port_value: 0x10", SOCKADDR, "port_value", "invalid uint32 value '0x10'");
    parse_err("port_value: eighty", SOCKADDR, "port_value", "invalid uint32 value 'eighty'");
    parse_err("port_value: ''", SOCKADDR, "port_value", "invalid uint32 value ''");
}

static void test_int32(void **state)
{
    Envoy__Type__V3__Int32Range *r = (void *)parse_ok("start: -2147483648\nend: 2147483647", I32R);
    assert_int_equal(r->start, INT32_MIN);
    assert_int_equal(r->end, INT32_MAX);
    or_config_free(&r->base);
    parse_err("start: 2147483648", I32R, "start", "out of range for int32");
    parse_err("end: -2147483649", I32R, "end", "out of range for int32");
    parse_err("end: 1e10", I32R, "end", "out of range for int32");
    parse_err("end: 3.25", I32R, "end", "invalid int32 value '3.25'");
}

static void test_int64(void **state)
{
    Envoy__Type__V3__Int64Range *r =
        (void *)parse_ok("start: -9223372036854775808\nend: '9223372036854775807'", I64R);
    assert_true(r->start == INT64_MIN);
    assert_true(r->end == INT64_MAX);
    or_config_free(&r->base);
    r = (void *)parse_ok("{\"start\": \"-5\", \"end\": 7}", I64R);
    assert_true(r->start == -5 && r->end == 7);
    or_config_free(&r->base);
    parse_err("start: 9223372036854775808", I64R, "start", "out of range for int64");
    parse_err("start: -9223372036854775809", I64R, "start", "out of range for int64");
    parse_err("start: 1e19", I64R, "start", "out of range for int64");
    parse_err("start: abc", I64R, "start", "invalid int64 value 'abc'");
}

static void test_uint64(void **state)
{
    Google__Protobuf__UInt64Value *v =
        (void *)parse_ok("18446744073709551615", &google__protobuf__uint64_value__descriptor);
    assert_true(v->value == UINT64_MAX);
    or_config_free(&v->base);
    v = (void *)parse_ok("\"42\"", &google__protobuf__uint64_value__descriptor);
    assert_true(v->value == 42);
    or_config_free(&v->base);
    parse_err("18446744073709551616", &google__protobuf__uint64_value__descriptor, "",
              "out of range for uint64");
    parse_err("-3", &google__protobuf__uint64_value__descriptor, "", "out of range for uint64");
}

static void test_float_double(void **state)
{
    Envoy__Type__V3__Percent *p =
        (void *)parse_ok("value: 12.5", &envoy__type__v3__percent__descriptor);
    assert_true(p->value == 12.5);
    or_config_free(&p->base);
    p = (void *)parse_ok("value: '1e2'", &envoy__type__v3__percent__descriptor);
    assert_true(p->value == 100.0);
    or_config_free(&p->base);
    p = (void *)parse_ok("value: 3", &envoy__type__v3__percent__descriptor);
    assert_true(p->value == 3.0);
    or_config_free(&p->base);

    Envoy__Type__V3__DoubleRange *d = (void *)parse_ok("start: -Infinity\nend: .inf", DBLR);
    assert_true(isinf(d->start) && d->start < 0);
    assert_true(isinf(d->end) && d->end > 0);
    or_config_free(&d->base);
    d = (void *)parse_ok("start: NaN", DBLR);
    assert_true(isnan(d->start));
    or_config_free(&d->base);
    parse_err("start: 1e400", DBLR, "start", "out of range for double");
    parse_err("start: fast", DBLR, "start", "invalid double value 'fast'");

    Google__Protobuf__FloatValue *f =
        (void *)parse_ok("0.25", &google__protobuf__float_value__descriptor);
    assert_true(f->value == 0.25f);
    or_config_free(&f->base);
    parse_err("1e39", &google__protobuf__float_value__descriptor, "", "out of range for float");
    parse_err("x", &google__protobuf__float_value__descriptor, "", "invalid float value 'x'");
}

static void test_enum(void **state)
{
    Envoy__Config__Cluster__V3__Cluster *c = (void *)parse_ok("lb_policy: LEAST_REQUEST", CLUSTER);
    assert_int_equal(c->lb_policy, ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__LEAST_REQUEST);
    or_config_free(&c->base);
    c = (void *)parse_ok("lb_policy: 5", CLUSTER); /* by number */
    assert_int_equal(c->lb_policy, ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__MAGLEV);
    or_config_free(&c->base);
    c = (void *)parse_ok("{\"lbPolicy\": \"RANDOM\", \"type\": \"STRICT_DNS\"}", CLUSTER);
    assert_int_equal(c->lb_policy, ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__RANDOM);
    assert_int_equal(c->cluster_discovery_type_case,
                     ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE_TYPE);
    assert_int_equal(c->type, ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__STRICT_DNS);
    or_config_free(&c->base);

    parse_err("lb_policy: round_robin", CLUSTER, "lb_policy",
              "unknown value 'round_robin' for enum envoy.config.cluster.v3.Cluster.LbPolicy");
    parse_err("lb_policy: 4", CLUSTER, "lb_policy", "unknown value '4' for enum"); /* reserved */
    parse_err("lb_policy: 99", CLUSTER, "lb_policy", "unknown value '99'");
    parse_err("lb_policy: {a: b}", CLUSTER, "lb_policy",
              "expected an enum name or number, got a mapping");
}

static void test_bytes(void **state)
{
    const ProtobufCMessageDescriptor *ds = &envoy__config__core__v3__data_source__descriptor;
    Envoy__Config__Core__V3__DataSource *d = (void *)parse_ok("inline_bytes: aGVsbG8=", ds);
    assert_int_equal(d->specifier_case,
                     ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_INLINE_BYTES);
    assert_int_equal(d->inline_bytes.len, 5);
    assert_memory_equal(d->inline_bytes.data, "hello", 5);
    or_config_free(&d->base);
    d = (void *)parse_ok("inlineBytes: aGVsbG8", ds); /* padding optional */
    assert_int_equal(d->inline_bytes.len, 5);
    or_config_free(&d->base);
    d = (void *)parse_ok("inline_bytes: _-8", ds); /* URL-safe alphabet */
    assert_int_equal(d->inline_bytes.len, 2);
    assert_int_equal(d->inline_bytes.data[0], 0xff);
    assert_int_equal(d->inline_bytes.data[1], 0xef);
    or_config_free(&d->base);
    d = (void *)parse_ok("inline_bytes: ''", ds);
    assert_int_equal(d->inline_bytes.len, 0);
    assert_int_equal(d->specifier_case,
                     ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_INLINE_BYTES);
    or_config_free(&d->base);
    parse_err("inline_bytes: 'a'", ds, "inline_bytes", "invalid base64");
    parse_err("inline_bytes: 'ab$d'", ds, "inline_bytes", "invalid base64");
    parse_err("inline_bytes: 'a=bc'", ds, "inline_bytes", "invalid base64");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string),       cmocka_unit_test(test_bool),
        cmocka_unit_test(test_uint32),       cmocka_unit_test(test_int32),
        cmocka_unit_test(test_int64),        cmocka_unit_test(test_uint64),
        cmocka_unit_test(test_float_double), cmocka_unit_test(test_enum),
        cmocka_unit_test(test_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
