/* The per-thread size-class allocator behind libevent (proxy/event/evmem.c): blocks come back
 * from the calling thread's free list, each class keeps a bounded amount, realloc keeps the
 * bytes, small and large blocks bypass the lists, and a thread's lists are released when it ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <malloc.h>
#include <pthread.h>

#include "proxy/event/evmem.h"

static void test_reuse_same_class(void **state)
{
    (void)state;
    size_t before = or_evmem_cached_bytes();
    void *a = or_evmem_malloc(3000);
    assert_non_null(a);
    assert_int_equal((uintptr_t)a % 16, 0);
    memset(a, 0xab, 3000);
    or_evmem_free(a);
    assert_int_equal(or_evmem_cached_bytes(), before + 4096);
    /* Any size of the same class (2049..4096) gets the block back, without malloc. */
    void *b = or_evmem_malloc(2500);
    assert_ptr_equal(a, b);
    assert_int_equal(or_evmem_cached_bytes(), before);
    /* Another class does not. */
    void *c = or_evmem_malloc(5000);
    assert_ptr_not_equal(c, b);
    or_evmem_free(b);
    or_evmem_free(c);
    or_evmem_free(NULL);
}

static void test_class_bound(void **state)
{
    (void)state;
    enum { N = 64 };
    void *p[N];
    size_t before = or_evmem_cached_bytes();
    for (int i = 0; i < N; i++)
        p[i] = or_evmem_malloc(32768);
    for (int i = 0; i < N; i++)
        or_evmem_free(p[i]);
    /* 32 KiB blocks: at most OR_EVMEM_CLASS_BYTES of them stay (the rest went back to malloc). */
    size_t kept = or_evmem_cached_bytes() - before;
    assert_true(kept <= OR_EVMEM_CLASS_BYTES);
    assert_true(kept >= 32768u * OR_EVMEM_MIN_BLOCKS);
    /* Small class blocks: the same byte bound, so many more of them. */
    void *q[N];
    for (int i = 0; i < N; i++)
        q[i] = or_evmem_malloc(64);
    for (int i = 0; i < N; i++)
        or_evmem_free(q[i]);
    assert_int_equal(or_evmem_cached_bytes() - before, kept + 64u * N);
}

static void test_small_is_plain_malloc(void **state)
{
    (void)state;
    /* Below the classes (the 16-byte evmap entry of every fd): no header, no padding, no list. */
    size_t before = or_evmem_cached_bytes();
    void *p = or_evmem_malloc(16);
    assert_non_null(p);
    assert_true(malloc_usable_size(p) < 32);
    or_evmem_free(p);
    void *q = or_evmem_malloc(40);
    assert_true(malloc_usable_size(q) < 64);
    or_evmem_free(q);
    assert_int_equal(or_evmem_cached_bytes(), before);
    /* A class block carries no header either: its usable size is its class (plus malloc's
     * rounding). */
    void *r = or_evmem_malloc(1000);
    assert_true(malloc_usable_size(r) >= 1024 && malloc_usable_size(r) < 1024 + 64);
    or_evmem_free(r);
    assert_int_equal(or_evmem_cached_bytes(), before + 1024);
    assert_ptr_equal(or_evmem_malloc(1024), r);
    or_evmem_free(r);
}

static void test_realloc_keeps_bytes(void **state)
{
    (void)state;
    char *p = or_evmem_realloc(NULL, 1500);
    assert_non_null(p);
    for (int i = 0; i < 100; i++)
        p[i] = (char)i;
    /* Within the class: same block. */
    assert_ptr_equal(or_evmem_realloc(p, 1800), p);
    char *q = or_evmem_realloc(p, 5000);
    assert_non_null(q);
    for (int i = 0; i < 100; i++)
        assert_int_equal(q[i], (char)i);
    /* Into the large range and back down. */
    char *r = or_evmem_realloc(q, 200000);
    assert_non_null(r);
    for (int i = 0; i < 100; i++)
        assert_int_equal(r[i], (char)i);
    r[199999] = 1;
    assert_ptr_equal(or_evmem_realloc(r, 10), r);
    assert_null(or_evmem_realloc(r, 0));
}

static void test_large_bypasses_lists(void **state)
{
    (void)state;
    size_t before = or_evmem_cached_bytes();
    /* (Just above 64 KiB a block may still serve the 64 KiB class: malloc rounds up a word.) */
    void *p = or_evmem_malloc(70000);
    assert_non_null(p);
    memset(p, 1, 70000);
    or_evmem_free(p);
    assert_int_equal(or_evmem_cached_bytes(), before);
}

static void *thread_frees(void *arg)
{
    /* A block made on another thread joins this thread's list, which goes when the thread
     * ends (LeakSanitizer checks that in the sanitizer build). */
    or_evmem_free(arg);
    size_t *kept = malloc(sizeof(*kept));
    *kept = or_evmem_cached_bytes();
    return kept;
}

static void test_cross_thread_free(void **state)
{
    (void)state;
    void *p = or_evmem_malloc(4096);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, thread_frees, p), 0);
    void *ret = NULL;
    assert_int_equal(pthread_join(t, &ret), 0);
    assert_int_equal(*(size_t *)ret, 4096);
    free(ret);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_same_class),    cmocka_unit_test(test_class_bound),
        cmocka_unit_test(test_realloc_keeps_bytes), cmocka_unit_test(test_large_bypasses_lists),
        cmocka_unit_test(test_cross_thread_free),   cmocka_unit_test(test_small_is_plain_malloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
