/* Load balancers: round robin (equal and weighted), least request, random, health and panic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/core/err.h"
#include "proxy/core/rand.h"
#include "proxy/upstream/lb.h"

static struct or_lb make(enum or_lb_policy p, uint64_t seed)
{
    struct or_lb_config c;
    or_lb_config_default(&c, p);
    struct or_lb lb;
    assert_int_equal(or_lb_init(&lb, &c, seed), 0);
    return lb;
}

static void within(int got, int total, double want_pct, double tol_pct, const char *what)
{
    double pct = 100.0 * got / total;
    if (pct < want_pct - tol_pct || pct > want_pct + tol_pct)
        fail_msg("%s: %.2f%% want %.2f%% +- %.1f", what, pct, want_pct, tol_pct);
}

static void test_rr_equal(void **state)
{
    struct or_lb_host_view h[3] = {{1, 0, 1}, {1, 0, 1}, {1, 0, 1}};
    struct or_lb lb = make(OR_LB_ROUND_ROBIN, 4);
    /* Plain rotation starting at seed % n. */
    int expect[] = {1, 2, 0, 1, 2, 0};
    for (int i = 0; i < 6; i++)
        assert_int_equal(or_lb_choose(&lb, h, 3, or_rand_cb, &(uint64_t){1}), expect[i]);
    /* Equal non-1 weights are still plain rotation. */
    struct or_lb_host_view h5[2] = {{5, 0, 1}, {5, 0, 1}};
    assert_int_equal(or_lb_refresh(&lb, h5, 2), 0);
    assert_false(lb.edf_on);
    int a = or_lb_choose(&lb, h5, 2, or_rand_cb, &(uint64_t){1});
    int b = or_lb_choose(&lb, h5, 2, or_rand_cb, &(uint64_t){1});
    assert_int_not_equal(a, b);
    or_lb_deinit(&lb);
}

static void test_rr_skips_unhealthy(void **state)
{
    struct or_lb_host_view h[4] = {{1, 0, 1}, {1, 0, 0}, {1, 0, 1}, {1, 0, 1}};
    struct or_lb lb = make(OR_LB_ROUND_ROBIN, 0);
    int counts[4] = {0};
    for (int i = 0; i < 300; i++)
        counts[or_lb_choose(&lb, h, 4, or_rand_cb, &(uint64_t){1})]++;
    assert_int_equal(counts[1], 0);
    assert_int_equal(counts[0], 100);
    assert_int_equal(counts[2], 100);
    assert_int_equal(counts[3], 100);
    assert_false(or_lb_in_panic(&lb));
    or_lb_deinit(&lb);
}

static void test_rr_weighted(void **state)
{
    struct or_lb_host_view h[3] = {{1, 0, 1}, {2, 0, 1}, {3, 0, 1}};
    for (uint64_t seed = 0; seed < 4; seed++) {
        struct or_lb lb = make(OR_LB_ROUND_ROBIN, seed);
        int counts[3] = {0};
        for (int i = 0; i < 6000; i++)
            counts[or_lb_choose(&lb, h, 3, or_rand_cb, &(uint64_t){1})]++;
        assert_true(lb.edf_on);
        /* EDF is exact up to one round. */
        assert_in_range(counts[0], 999, 1001);
        assert_in_range(counts[1], 1999, 2001);
        assert_in_range(counts[2], 2999, 3001);
        or_lb_deinit(&lb);
    }
    /* Smooth: within any window of 6 picks each host appears weight times (+-1). */
    struct or_lb lb = make(OR_LB_ROUND_ROBIN, 0);
    int seq[12];
    for (int i = 0; i < 12; i++)
        seq[i] = or_lb_choose(&lb, h, 3, or_rand_cb, &(uint64_t){1});
    for (int start = 0; start + 6 <= 12; start++) {
        int c[3] = {0};
        for (int i = start; i < start + 6; i++)
            c[seq[i]]++;
        assert_in_range(c[2], 2, 4);
    }
    or_lb_deinit(&lb);
}

static void test_least_request(void **state)
{
    /* Equal weights: power of two choices prefers the idle host. With 2 hosts and one busy,
     * the idle one wins unless both draws hit the busy one: 3/4. */
    struct or_lb_host_view h[2] = {{1, 10, 1}, {1, 0, 1}};
    struct or_lb lb = make(OR_LB_LEAST_REQUEST, 0);
    uint64_t rs = 99;
    int idle = 0;
    const int N = 10000;
    for (int i = 0; i < N; i++)
        idle += or_lb_choose(&lb, h, 2, or_rand_cb, &rs) == 1;
    within(idle, N, 75.0, 3.0, "idle host share");
    or_lb_deinit(&lb);

    /* Three hosts, one idle: 1 - (2/3)^2 = 55.6%. */
    struct or_lb_host_view h3[3] = {{1, 5, 1}, {1, 0, 1}, {1, 5, 1}};
    lb = make(OR_LB_LEAST_REQUEST, 0);
    idle = 0;
    for (int i = 0; i < N; i++)
        idle += or_lb_choose(&lb, h3, 3, or_rand_cb, &rs) == 1;
    within(idle, N, 55.6, 3.0, "idle of three");
    or_lb_deinit(&lb);

    /* choice_count = hosts * 10: almost always the idle one. */
    struct or_lb_config c;
    or_lb_config_default(&c, OR_LB_LEAST_REQUEST);
    c.choice_count = 30;
    assert_int_equal(or_lb_init(&lb, &c, 0), 0);
    idle = 0;
    for (int i = 0; i < 1000; i++)
        idle += or_lb_choose(&lb, h3, 3, or_rand_cb, &rs) == 1;
    assert_true(idle > 990);
    or_lb_deinit(&lb);
}

static void test_least_request_weighted(void **state)
{
    /* Different weights: EDF with weight / (active + 1). Host 1 (weight 2, idle) gets weight 2,
     * host 0 (weight 1, 1 active) weight 0.5: 80% / 20%. */
    struct or_lb_host_view h[2] = {{1, 1, 1}, {2, 0, 1}};
    struct or_lb lb = make(OR_LB_LEAST_REQUEST, 0);
    int counts[2] = {0};
    for (int i = 0; i < 1000; i++)
        counts[or_lb_choose(&lb, h, 2, or_rand_cb, &(uint64_t){1})]++;
    assert_true(lb.edf_on);
    within(counts[1], 1000, 80.0, 1.0, "weighted least request");
    or_lb_deinit(&lb);

    /* Bias 0: active requests ignored, plain weights 1:2. */
    struct or_lb_config c;
    or_lb_config_default(&c, OR_LB_LEAST_REQUEST);
    c.active_request_bias = 0.0;
    assert_int_equal(or_lb_init(&lb, &c, 0), 0);
    counts[0] = counts[1] = 0;
    for (int i = 0; i < 3000; i++)
        counts[or_lb_choose(&lb, h, 2, or_rand_cb, &(uint64_t){1})]++;
    within(counts[1], 3000, 66.7, 1.0, "bias 0");
    or_lb_deinit(&lb);
}

static void test_random(void **state)
{
    struct or_lb_host_view h[4] = {{1, 0, 1}, {100, 0, 1}, {1, 0, 1}, {1, 0, 1}};
    struct or_lb lb = make(OR_LB_RANDOM, 0);
    uint64_t rs = 7;
    int counts[4] = {0};
    const int N = 20000;
    for (int i = 0; i < N; i++)
        counts[or_lb_choose(&lb, h, 4, or_rand_cb, &rs)]++;
    for (int i = 0; i < 4; i++)
        within(counts[i], N, 25.0, 2.0, "random ignores weights");
    or_lb_deinit(&lb);
}

static void test_panic_and_empty(void **state)
{
    struct or_lb lb = make(OR_LB_ROUND_ROBIN, 0);
    /* No hosts. */
    assert_int_equal(or_lb_choose(&lb, NULL, 0, or_rand_cb, &(uint64_t){1}), OR_ENOTFOUND);

    /* 1 healthy of 4 = 25% < 50%: panic, every host is used. */
    struct or_lb_host_view h[4] = {{1, 0, 1}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}};
    int counts[4] = {0};
    for (int i = 0; i < 40; i++)
        counts[or_lb_choose(&lb, h, 4, or_rand_cb, &(uint64_t){1})]++;
    assert_true(or_lb_in_panic(&lb));
    for (int i = 0; i < 4; i++)
        assert_int_equal(counts[i], 10);

    /* 2 of 4 = 50%: not below the threshold, healthy hosts only. */
    h[1].healthy = 1;
    assert_int_equal(or_lb_refresh(&lb, h, 4), 0);
    assert_false(or_lb_in_panic(&lb));
    for (int i = 0; i < 10; i++) {
        int c = or_lb_choose(&lb, h, 4, or_rand_cb, &(uint64_t){1});
        assert_true(c == 0 || c == 1);
    }

    /* No healthy host at all: panic routes to all of them. */
    struct or_lb_host_view none[2] = {{1, 0, 0}, {1, 0, 0}};
    assert_int_equal(or_lb_refresh(&lb, none, 2), 0);
    assert_true(or_lb_in_panic(&lb));
    assert_true(or_lb_choose(&lb, none, 2, or_rand_cb, &(uint64_t){1}) >= 0);
    or_lb_deinit(&lb);

    /* Panic disabled (threshold 0): no healthy host means no host. */
    struct or_lb_config c;
    or_lb_config_default(&c, OR_LB_RANDOM);
    c.healthy_panic_threshold = 0;
    assert_int_equal(or_lb_init(&lb, &c, 0), 0);
    assert_int_equal(or_lb_choose(&lb, none, 2, or_rand_cb, &(uint64_t){1}), OR_ENOTFOUND);
    assert_false(or_lb_in_panic(&lb));
    or_lb_deinit(&lb);

    /* Threshold 100 with 3 of 4 healthy: availability 105% -> capped 100, no panic. */
    c.healthy_panic_threshold = 100;
    assert_int_equal(or_lb_init(&lb, &c, 0), 0);
    struct or_lb_host_view most[4] = {{1, 0, 1}, {1, 0, 1}, {1, 0, 1}, {1, 0, 0}};
    assert_int_equal(or_lb_refresh(&lb, most, 4), 0);
    assert_false(or_lb_in_panic(&lb));
    or_lb_deinit(&lb);

    struct or_lb_config bad = {.policy = (enum or_lb_policy)42};
    assert_int_equal(or_lb_init(&lb, &bad, 0), OR_EINVAL);
}

static void test_rebuild_on_size_change(void **state)
{
    struct or_lb lb = make(OR_LB_ROUND_ROBIN, 0);
    struct or_lb_host_view h[8];
    for (int i = 0; i < 8; i++)
        h[i] = (struct or_lb_host_view){1, 0, 1};
    for (uint32_t n = 1; n <= 8; n++)
        for (int i = 0; i < 20; i++) {
            int c = or_lb_choose(&lb, h, n, or_rand_cb, &(uint64_t){1});
            assert_in_range(c, 0, (int)n - 1);
        }
    or_lb_deinit(&lb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rr_equal),
        cmocka_unit_test(test_rr_skips_unhealthy),
        cmocka_unit_test(test_rr_weighted),
        cmocka_unit_test(test_least_request),
        cmocka_unit_test(test_least_request_weighted),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_panic_and_empty),
        cmocka_unit_test(test_rebuild_on_size_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
