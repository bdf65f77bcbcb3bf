/* Access loggers end to end: AccessLog configs (file, stdout, stderr) and their errors, the
 * per-slot rings and the log thread: whole lines from two threads, drops when a ring is full,
 * flush by interval and by size, reopen after rename, and throughput. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "envoy/config/accesslog/v3/accesslog.pb-c.h"
#include "proxy/accesslog/access_log.h"
#include "proxy/accesslog/format.h"
#include "proxy/config/reflect.h"
#include "proxy/http/headers.h"

#define FILE_URL "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"

static char tmpdir[64];

static int group_setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/or_al_writer_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *tmp_path(const char *name)
{
    char *p = malloc(256);
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        *len = 0;
        return strdup("");
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, fp);
    fclose(fp);
    b[got] = '\0';
    *len = got;
    return b;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void start(uint32_t workers, uint32_t interval_ms, size_t buffer, size_t flush, bool thread)
{
    struct or_access_log_manager_opts o = {
        .n_workers = workers,
        .flush_interval_ms = interval_ms,
        .buffer_bytes = buffer,
        .flush_bytes = flush,
        .no_thread = !thread,
    };
    assert_int_equal(or_access_log_manager_start(&o), 0);
}

/* Builds an AccessLog from YAML and a config from it; NULL with err filled on failure. */
static struct or_access_log_config *config_yaml(const char *yaml, struct or_err_detail *err,
                                                int *rc)
{
    ProtobufCMessage *m = NULL;
    struct or_err_detail perr = {0};
    if (or_config_parse(yaml, strlen(yaml), &envoy__config__accesslog__v3__access_log__descriptor,
                        &m, &perr) != 0)
        fail_msg("yaml: %s: %s", perr.path, perr.msg);
    struct or_access_log_config *cfg = NULL;
    *rc = or_access_log_config_new((const Envoy__Config__Accesslog__V3__AccessLog *)m,
                                   "access_log[0]", &cfg, err);
    or_config_free(m);
    return cfg;
}

static struct or_access_log_config *file_config(const char *path, const char *log_format_yaml)
{
    char yaml[1024];
    snprintf(yaml, sizeof(yaml),
             "name: envoy.access_loggers.file\n"
             "typed_config:\n"
             "  '@type': " FILE_URL "\n"
             "  path: %s\n"
             "%s",
             path, log_format_yaml ? log_format_yaml : "");
    struct or_err_detail err = {0};
    int rc;
    struct or_access_log_config *cfg = config_yaml(yaml, &err, &rc);
    if (cfg == NULL)
        fail_msg("config: %s: %s", err.path, err.msg);
    return cfg;
}

struct rec {
    struct or_arena arena;
    struct or_headers req;
    struct or_access_log_info info;
};

static void rec_init(struct rec *r)
{
    memset(r, 0, sizeof(*r));
    or_arena_init(&r->arena, 0);
    or_headers_init(&r->req, &r->arena);
    r->info.req_headers = &r->req;
    r->info.start_time.tv_sec = 1460751420;
    r->info.duration_ns = 5000000;
    r->info.request_duration_ns = r->info.response_duration_ns = -1;
    r->info.request_tx_duration_ns = r->info.downstream_tx_end_ns = -1;
    r->info.response_code = 200;
    r->info.protocol = or_str_cstr("HTTP/1.1");
}

static void rec_set(struct rec *r, const char *name, const char *value)
{
    assert_int_equal(or_headers_set(&r->req, name, value, strlen(value)), 0);
}

/* ---------------------------------------------------------------------------------------------
 */

static void test_file_config_roundtrip(void **state)
{
    start(2, 0, 0, 0, false);
    char *path = tmp_path("roundtrip.log");
    struct or_access_log_config *cfg =
        file_config(path, "  log_format:\n"
                          "    json_format: {code: '%RESPONSE_CODE%', who: '%REQ(X-WHO)%'}\n");
    assert_string_equal(or_access_log_config_path(cfg), path);
    struct rec r;
    rec_init(&r);
    rec_set(&r, "x-who", "worker0");
    or_access_log_record(cfg, 0, &r.info);
    rec_set(&r, "x-who", "main");
    or_access_log_record(cfg, or_access_log_main_slot(), &r.info);
    assert_int_equal(or_access_log_main_slot(), 2);
    /* Out-of-range slots are ignored, never written out of bounds. */
    or_access_log_record(cfg, 3, &r.info);

    size_t len;
    char *before = slurp(path, &len);
    assert_int_equal(len, 0); /* nothing leaves the ring before a flush */
    free(before);
    or_access_log_flush();
    char *s = slurp(path, &len);
    assert_string_equal(s, "{\"code\":200,\"who\":\"worker0\"}\n{\"code\":200,\"who\":\"main\"}\n");
    free(s);

    struct or_access_log_stats st;
    or_access_log_stats_get(&st);
    assert_int_equal(st.write_buffered, 2);
    assert_int_equal(st.write_total_buffered, 0);
    assert_int_equal(st.dropped_lines, 0);

    /* Default format when the FileAccessLog has none. */
    struct or_access_log_config *def = file_config(path, NULL);
    or_access_log_record(def, 1, &r.info);
    or_access_log_config_free(def); /* cfg still holds the file open */
    or_access_log_flush();
    s = slurp(path, &len);
    assert_non_null(strstr(s,
                           "[2016-04-15T20:17:00.000Z] \"- - HTTP/1.1\" 200 - 0 0 5 - \"-\" \"-\" "
                           "\"-\" \"-\" \"-\"\n"));
    free(s);
    or_access_log_config_free(cfg);
    or_access_log_manager_stop();
    or_arena_deinit(&r.arena);
    free(path);
}

static void expect_config_error(const char *yaml, const char *want_path, const char *want_msg)
{
    struct or_err_detail err = {0};
    int rc;
    struct or_access_log_config *cfg = config_yaml(yaml, &err, &rc);
    if (cfg != NULL)
        fail_msg("accepted: %s", yaml);
    assert_int_equal(rc, OR_EINVAL);
    if (strcmp(err.path, want_path) != 0 || strstr(err.msg, want_msg) == NULL)
        fail_msg("config %s\n  want %s: %s\n  got  %s: %s", yaml, want_path, want_msg, err.path,
                 err.msg);
}

static void test_config_errors(void **state)
{
    struct or_err_detail err = {0};
    int rc;
    /* Before the manager is started. */
    assert_null(config_yaml("typed_config: {'@type': " FILE_URL ", path: /tmp/x}", &err, &rc));
    assert_int_equal(rc, OR_EINVAL);

    start(1, 0, 0, 0, false);
    expect_config_error("name: envoy.access_loggers.file", "access_log[0].typed_config",
                        "typed_config is required");
    expect_config_error("typed_config: {'@type': "
                        "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}",
                        "access_log[0].typed_config",
                        "unsupported access logger type "
                        "'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router'");
    expect_config_error("typed_config: {'@type': " FILE_URL "}", "access_log[0].typed_config.path",
                        "value length must be at least 1 characters");
    expect_config_error("typed_config: {'@type': " FILE_URL ", path: /nonexistent-dir/a.log}",
                        "access_log[0].typed_config.path",
                        "unable to open file '/nonexistent-dir/a.log'");
    expect_config_error("typed_config: {'@type': " FILE_URL ", path: /tmp/x.log, log_format: "
                        "{text_format_source: {inline_string: '%START_TIME% %NOPE%'}}}",
                        "access_log[0].typed_config.log_format.text_format_source.inline_string",
                        "Not supported field in StreamInfo: NOPE");
    expect_config_error("typed_config: {'@type': " FILE_URL ", path: /tmp/x.log, log_format: "
                        "{json_format: {a: {b: '%REQ%'}}}}",
                        "access_log[0].typed_config.log_format.json_format.a.b",
                        "REQ requires parameters");
    expect_config_error("typed_config: {'@type': " FILE_URL ", path: /tmp/x.log, format: '%BAD'}",
                        "access_log[0].typed_config.format",
                        "Incorrect configuration: %BAD. Couldn't find valid command at position 0");
    expect_config_error("typed_config: {'@type': "
                        "type.googleapis.com/envoy.extensions.access_loggers.stream.v3."
                        "StdoutAccessLog, log_format: {text_format: '%X%'}}",
                        "access_log[0].typed_config.log_format.text_format",
                        "Not supported field in StreamInfo: X");
    expect_config_error("typed_config: {'@type': "
                        "type.googleapis.com/envoy.extensions.access_loggers.stream.v3."
                        "StderrAccessLog, log_format: {omit_empty_values: true}}",
                        "access_log[0].typed_config.log_format", "is required");
    or_access_log_manager_stop();
}

/* Runs `fn` with fd `which` (1 or 2) redirected to a file; returns what was written there. */
static char *capture_fd(int which, const char *yaml)
{
    char *path = tmp_path(which == 1 ? "stdout.cap" : "stderr.cap");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    fflush(which == 1 ? stdout : stderr);
    int saved = dup(which);
    dup2(fd, which);
    close(fd);

    struct or_err_detail err = {0};
    int rc;
    struct or_access_log_config *cfg = config_yaml(yaml, &err, &rc);
    if (cfg == NULL)
        fail_msg("%s: %s", err.path, err.msg);
    assert_string_equal(or_access_log_config_path(cfg), which == 1 ? "/dev/stdout" : "/dev/stderr");
    struct rec r;
    rec_init(&r);
    rec_set(&r, ":method", "GET");
    or_access_log_record(cfg, 0, &r.info);
    or_access_log_reopen_all(); /* never reopens fds 1 and 2 */
    or_access_log_flush();
    or_access_log_config_free(cfg);

    dup2(saved, which);
    close(saved);
    size_t len;
    char *s = slurp(path, &len);
    or_arena_deinit(&r.arena);
    free(path);
    return s;
}

static void test_stdout_stderr(void **state)
{
    start(1, 0, 0, 0, false);
    char *s = capture_fd(1, "typed_config: {'@type': "
                            "type.googleapis.com/envoy.extensions.access_loggers.stream.v3."
                            "StdoutAccessLog, log_format: {text_format_source: "
                            "{inline_string: \"out %REQ(:METHOD)%\\n\"}}}");
    assert_string_equal(s, "out GET\n");
    free(s);
    s = capture_fd(2, "typed_config: {'@type': "
                      "type.googleapis.com/envoy.extensions.access_loggers.stream.v3."
                      "StderrAccessLog}");
    assert_string_equal(s, "[2016-04-15T20:17:00.000Z] \"GET - HTTP/1.1\" 200 - 0 0 5 - \"-\" "
                           "\"-\" \"-\" \"-\" \"-\"\n");
    free(s);
    /* FileAccessLog on /dev/stdout is the same fd. */
    s = capture_fd(1, "typed_config: {'@type': " FILE_URL ", path: /dev/stdout, format: \"f\\n\"}");
    assert_string_equal(s, "f\n");
    free(s);
    or_access_log_manager_stop();
}

static void test_shared_file(void **state)
{
    start(1, 0, 0, 0, false);
    char *path = tmp_path("shared.log");
    struct or_access_log_config *a = file_config(path, "  format: \"a\\n\"\n");
    struct or_access_log_config *b = file_config(path, "  format: \"b\\n\"\n");
    struct rec r;
    rec_init(&r);
    or_access_log_record(a, 0, &r.info);
    or_access_log_record(b, 0, &r.info);
    or_access_log_record(a, 0, &r.info);
    or_access_log_config_free(a);
    or_access_log_record(b, 0, &r.info);
    or_access_log_flush();
    size_t len;
    char *s = slurp(path, &len);
    assert_string_equal(s, "a\nb\na\nb\n"); /* one ring per slot: order kept */
    free(s);
    or_access_log_config_free(b); /* last reference: written and closed now */
    or_access_log_manager_stop();
    or_arena_deinit(&r.arena);
    free(path);
}

/* Two producers on slots 0 and 1 while the log thread flushes every 5 ms. */
struct producer {
    struct or_access_log_config *cfg;
    uint32_t slot;
    unsigned n;
    unsigned rate; /* lines per second, 0 = as fast as possible */
    double secs;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *produce(void *arg)
{
    struct producer *p = arg;
    struct rec r;
    rec_init(&r);
    char t[8], seq[16];
    snprintf(t, sizeof(t), "t%u", p->slot);
    rec_set(&r, "x-t", t);
    rec_set(&r, "user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36");
    rec_set(&r, "x-request-id", "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2");
    rec_set(&r, ":authority", "backend.mesh.local");
    double t0 = now_s();
    for (unsigned i = 0; i < p->n; i++) {
        if (p->rate) {
            /* Pace the producer like a steady request rate (not synchronisation). */
            double due = t0 + (double)i / p->rate;
            while (now_s() < due) {
                struct timespec ts = {0, 50000};
                nanosleep(&ts, NULL);
            }
        }
        snprintf(seq, sizeof(seq), "%u", i);
        rec_set(&r, "x-seq", seq);
        clock_gettime(CLOCK_REALTIME, &r.info.start_time);
        or_access_log_record(p->cfg, p->slot, &r.info);
        /* Keep the arena from growing without bound across many header updates. */
        if ((i & 1023) == 1023) {
            or_arena_deinit(&r.arena);
            rec_init(&r);
            rec_set(&r, "x-t", t);
            rec_set(&r, "user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36");
            rec_set(&r, "x-request-id", "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2");
            rec_set(&r, ":authority", "backend.mesh.local");
        }
    }
    p->secs = now_s() - t0;
    or_arena_deinit(&r.arena);
    return NULL;
}

/* Checks that the file holds exactly n whole lines per thread, each thread's in order. */
static void check_lines(const char *s, unsigned threads, unsigned n)
{
    unsigned next[4] = {0};
    const char *p = s;
    size_t lines = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        unsigned t, seq;
        char tail[64];
        if (sscanf(p, "t%u %u %63s", &t, &seq, tail) != 3)
            fail_msg("bad line: %.*s", (int)(nl - p), p);
        assert_true(t < threads);
        assert_int_equal(seq, next[t]);
        assert_string_equal(tail, "Mozilla/5.0");
        /* The line's end is its own: no bytes of another line inside it. */
        assert_non_null(memmem(p, (size_t)(nl - p), " end", 4));
        next[t]++;
        lines++;
        p = nl + 1;
    }
    assert_int_equal(lines, (size_t)threads * n);
    for (unsigned t = 0; t < threads; t++)
        assert_int_equal(next[t], n);
}

static void test_two_threads_lines_intact(void **state)
{
    /* Rings large enough that nothing is dropped even if the log thread lags. */
    start(2, 5, 8u << 20, 16u << 10, true);
    char *path = tmp_path("two_threads.log");
    struct or_access_log_config *cfg =
        file_config(path, "  format: \"%REQ(X-T)% %REQ(X-SEQ)% %REQ(USER-AGENT)% "
                          "%REQ(X-REQUEST-ID)% %START_TIME% end\\n\"\n");
    enum { N = 40000 };
    struct or_access_log_stats st0;
    or_access_log_stats_get(&st0);
    struct producer p[2] = {{cfg, 0, N, 0, 0}, {cfg, 1, N, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, produce, &p[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    or_access_log_manager_stop(); /* joins the log thread after a final flush */

    size_t len;
    char *s = slurp(path, &len);
    check_lines(s, 2, N);
    free(s);
    struct or_access_log_stats st;
    or_access_log_stats_get(&st);
    assert_int_equal(st.dropped_lines - st0.dropped_lines, 0);
    assert_int_equal(st.write_buffered - st0.write_buffered, 2 * N);
    assert_true(st.write_completed > st0.write_completed);
    assert_int_equal(st.write_failed, 0);
    or_access_log_config_free(cfg);
    free(path);
}

static void test_drop_when_full(void **state)
{
    start(1, 0, 4096, 1024, false);
    char *path = tmp_path("drop.log");
    /* 100-byte lines into a 4 KiB ring with no one draining it. */
    /* 90-byte lines: 8 digits, a space, 80 dots, '\n'. */
    char fmt[160];
    memset(fmt, 0, sizeof(fmt));
    snprintf(fmt, sizeof(fmt), "%s", "  format: \"%REQ(X-SEQ)% ");
    memset(fmt + strlen(fmt), '.', 80);
    strcat(fmt, "\\n\"\n");
    struct or_access_log_config *cfg = file_config(path, fmt);
    struct rec r;
    rec_init(&r);
    struct or_access_log_stats st0;
    or_access_log_stats_get(&st0);
    for (unsigned i = 0; i < 100; i++) {
        char seq[16];
        snprintf(seq, sizeof(seq), "%08u", i);
        rec_set(&r, "x-seq", seq);
        or_access_log_record(cfg, 0, &r.info);
    }
    struct or_access_log_stats st;
    or_access_log_stats_get(&st);
    assert_int_equal(st.write_buffered - st0.write_buffered, 4096 / 90);
    assert_int_equal(st.dropped_lines - st0.dropped_lines, 100 - 4096 / 90);
    assert_int_equal(st.write_total_buffered, (4096 / 90) * 90);
    or_access_log_flush();
    size_t len;
    char *s = slurp(path, &len);
    assert_int_equal(count_lines(s), 4096 / 90);
    assert_int_equal(len, (4096 / 90) * 90);
    assert_true(strncmp(s, "00000000 ", 9) == 0);
    free(s);

    /* Once drained, the ring accepts lines again. */
    or_access_log_record(cfg, 0, &r.info);
    or_access_log_flush();
    s = slurp(path, &len);
    assert_int_equal(count_lines(s), 4096 / 90 + 1);
    free(s);
    or_access_log_config_free(cfg);
    or_access_log_manager_stop();
    or_arena_deinit(&r.arena);
    free(path);
}

static bool wait_for_size(const char *path, size_t want, double timeout_s)
{
    double end = now_s() + timeout_s;
    struct stat sb;
    while (now_s() < end) {
        if (stat(path, &sb) == 0 && (size_t)sb.st_size >= want)
            return true;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void test_flush_by_interval_and_size(void **state)
{
    /* Interval: a single short line reaches the file within ~50 ms. */
    start(1, 50, 64u << 10, 8u << 10, true);
    char *path = tmp_path("interval.log");
    struct or_access_log_config *cfg = file_config(path, "  format: \"tick\\n\"\n");
    struct rec r;
    rec_init(&r);
    double t0 = now_s();
    or_access_log_record(cfg, 0, &r.info);
    assert_true(wait_for_size(path, 5, 5.0));
    double took = now_s() - t0;
    struct or_access_log_stats st;
    or_access_log_stats_get(&st);
    assert_true(st.flushed_by_timer >= 1);
    assert_true(took < 2.0);
    or_access_log_config_free(cfg);
    or_access_log_manager_stop();
    free(path);

    /* Size: with a 10 s interval, passing flush_bytes wakes the log thread at once. */
    start(1, 10000, 64u << 10, 4u << 10, true);
    path = tmp_path("size.log");
    cfg = file_config(path, "  format: \"%REQ(X-PAD)%\\n\"\n");
    char pad[1001];
    memset(pad, 'x', 1000);
    pad[1000] = '\0';
    rec_set(&r, "x-pad", pad);
    for (int i = 0; i < 5; i++) /* 5005 bytes > 4 KiB */
        or_access_log_record(cfg, 0, &r.info);
    assert_true(wait_for_size(path, 5005, 5.0));
    or_access_log_config_free(cfg);
    or_access_log_manager_stop();
    or_arena_deinit(&r.arena);
    free(path);
}

static void test_reopen_after_rename(void **state)
{
    for (int threaded = 0; threaded < 2; threaded++) {
        start(1, 10000, 0, 0, threaded);
        char *path = tmp_path("rotate.log");
        char *rotated = tmp_path("rotate.log.1");
        unlink(path);
        unlink(rotated);
        struct or_access_log_config *cfg = file_config(path, "  format: \"%REQ(X-L)%\\n\"\n");
        struct rec r;
        rec_init(&r);
        rec_set(&r, "x-l", "before");
        or_access_log_record(cfg, 0, &r.info);
        or_access_log_flush();
        assert_int_equal(rename(path, rotated), 0);
        /* Written after the rename but before the reopen: still the old (renamed) file. */
        rec_set(&r, "x-l", "renamed");
        or_access_log_record(cfg, 0, &r.info);
        or_access_log_flush();
        or_access_log_reopen_all();
        rec_set(&r, "x-l", "after");
        or_access_log_record(cfg, 0, &r.info);
        or_access_log_flush(); /* applies the reopen if the log thread has not yet */
        size_t len;
        char *old = slurp(rotated, &len);
        char *cur = slurp(path, &len);
        assert_string_equal(old, "before\nrenamed\n");
        assert_string_equal(cur, "after\n");
        free(old);
        free(cur);
        struct or_access_log_stats st;
        or_access_log_stats_get(&st);
        assert_int_equal(st.reopen_failed, 0);
        or_access_log_config_free(cfg);
        or_access_log_manager_stop();
        or_arena_deinit(&r.arena);
        free(path);
        free(rotated);
    }
}

/* Throughput: formatting + queueing + writing Envoy's default format from two worker threads.
 * First flat out (records/s printed), then paced at 20,000 records/s in total for one second:
 * nothing may be dropped and every line must reach the file. */
static void test_throughput(void **state)
{
    start(2, 1000, 0, 0, true);
    char *path = tmp_path("throughput.log");
    struct or_access_log_config *cfg = file_config(path, NULL);
    enum { N = 100000 };
    struct or_access_log_stats st0;
    or_access_log_stats_get(&st0);
    struct producer p[2] = {{cfg, 0, N, 0, 0}, {cfg, 1, N, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, produce, &p[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double secs = p[0].secs > p[1].secs ? p[0].secs : p[1].secs;
    or_access_log_flush();
    struct or_access_log_stats st;
    or_access_log_stats_get(&st);
    printf("# access log flat out: %u records in %.3f s = %.0f records/s (%.2f us/record/thread), "
           "dropped %llu\n",
           2 * N, secs, 2 * N / secs, secs * 1e6 / N,
           (unsigned long long)(st.dropped_lines - st0.dropped_lines));
    assert_int_equal(st.write_buffered + st.dropped_lines - st0.write_buffered - st0.dropped_lines,
                     2 * N);
    assert_true(2 * N / secs > 20000.0);
    or_access_log_config_free(cfg);
    or_access_log_manager_stop();
    unlink(path);

    /* Steady 20k records/s (10k per worker) for one second with default settings. */
    start(2, 1000, 0, 0, true);
    cfg = file_config(path, NULL);
    or_access_log_stats_get(&st0);
    struct producer q[2] = {{cfg, 0, 10000, 10000, 0}, {cfg, 1, 10000, 10000, 0}};
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, produce, &q[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    or_access_log_manager_stop();
    or_access_log_stats_get(&st);
    size_t len;
    char *s = slurp(path, &len);
    printf("# access log at 20000 records/s: %zu lines written, %llu dropped, %.1f MB\n",
           count_lines(s), (unsigned long long)(st.dropped_lines - st0.dropped_lines), len / 1e6);
    assert_int_equal(st.dropped_lines - st0.dropped_lines, 0);
    assert_int_equal(count_lines(s), 20000);
    free(s);
    or_access_log_config_free(cfg);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_config_roundtrip),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_stdout_stderr),
        cmocka_unit_test(test_shared_file),
        cmocka_unit_test(test_two_threads_lines_intact),
        cmocka_unit_test(test_drop_when_full),
        cmocka_unit_test(test_flush_by_interval_and_size),
        cmocka_unit_test(test_reopen_after_rename),
        cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
