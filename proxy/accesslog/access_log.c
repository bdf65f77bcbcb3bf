/* Access log configs, per-slot rings and the log thread. See access_log.h for the threading
 * contract; the short version: workers only ever touch their own ring's head (release store) and
 * read its tail (acquire load); the log thread owns the tails. */
#include "proxy/accesslog/access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "envoy/extensions/access_loggers/file/v3/file.pb-c.h"
#include "envoy/extensions/access_loggers/stream/v3/stream.pb-c.h"
#include "proxy/accesslog/format.h"
#include "proxy/config/reflect.h"
#include "proxy/core/log.h"

#define DEFAULT_INTERVAL_MS 10000u
#define DEFAULT_BUFFER (1024u * 1024u)
#define DEFAULT_FLUSH (64u * 1024u)

/* One slot's ring. head/tail count bytes ever written/consumed; (head - tail) <= size. The
 * producer (the slot's thread) writes head, lines and dropped; the log thread writes tail. */
struct or_al_ring {
    _Alignas(64) _Atomic uint64_t head;
    _Atomic uint64_t lines;   /* lines accepted (write_buffered) */
    _Atomic uint64_t dropped; /* lines dropped: ring full or line OOM */
    _Atomic int wake_armed;   /* producer may wake the log thread once; log thread re-arms */
    _Alignas(64) _Atomic uint64_t tail;
    char *buf; /* owned: size bytes */
    uint64_t mask;
};

struct or_al_file {
    char *path;               /* owned */
    int fd;                   /* owned unless is_std */
    bool is_std;              /* fd 1 or 2: never reopened, never closed */
    unsigned refs;            /* configs using the file; under mgr.lock */
    unsigned reopen_seen;     /* log thread: last reopen generation applied */
    struct or_al_ring *rings; /* owned: n_slots, 64-byte aligned */
    struct or_al_file *next;  /* borrowed: next in mgr.files */
};

struct or_al_slot {
    _Alignas(64) struct or_alog_buf line; /* the slot thread's formatting buffer */
    struct or_alog_cache *cache;          /* owned: START_TIME cache */
};

struct or_access_log_config {
    struct or_alog_format *fmt; /* owned */
    struct or_al_file *file;    /* ref: mgr.files entry */
    uint32_t n_slots;
    struct or_al_slot *slots; /* owned: n_slots, 64-byte aligned */
};

static struct {
    pthread_mutex_t lock;       /* files list and refs */
    pthread_mutex_t flush_lock; /* one flush pass at a time */
    struct or_al_file *files;   /* owned list */
    struct or_al_file **scan;   /* owned: flush pass scratch, under flush_lock */
    size_t scan_cap;
    uint32_t n_slots; /* 0 = not started */
    uint64_t ring_size;
    uint64_t flush_bytes;
    uint32_t interval_ms;
    pthread_t thread;
    bool thread_running;
    _Atomic int efd; /* eventfd waking the log thread; -1 before the first start */
    _Atomic int stop;
    _Atomic unsigned reopen_gen;
    _Atomic uint64_t write_completed, write_failed, flushed_by_timer, reopen_failed;
    _Atomic uint64_t retired_lines, retired_dropped; /* counters of files already closed */
} mgr = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .flush_lock = PTHREAD_MUTEX_INITIALIZER,
    .efd = -1,
};

static void counter_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void wake_log_thread(void)
{
    int efd = atomic_load_explicit(&mgr.efd, memory_order_relaxed);
    if (efd >= 0) {
        uint64_t one = 1;
        ssize_t r = write(efd, &one, sizeof(one));
        (void)r;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Rings (producer side) */

static void ring_push(struct or_al_ring *r, const char *p, size_t n)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint64_t size = r->mask + 1;
    if (n > size - (h - t)) {
        /* Single producer: a load and a store, no read-modify-write. */
        atomic_store_explicit(&r->dropped,
                              atomic_load_explicit(&r->dropped, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        if (atomic_load_explicit(&r->wake_armed, memory_order_relaxed)) {
            atomic_store_explicit(&r->wake_armed, 0, memory_order_relaxed);
            wake_log_thread();
        }
        return;
    }
    uint64_t off = h & r->mask;
    size_t first = n < size - off ? n : (size_t)(size - off);
    memcpy(r->buf + off, p, first);
    if (first < n)
        memcpy(r->buf, p + first, n - first);
    atomic_store_explicit(&r->head, h + n, memory_order_release);
    atomic_store_explicit(&r->lines, atomic_load_explicit(&r->lines, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (h + n - t >= mgr.flush_bytes &&
        atomic_load_explicit(&r->wake_armed, memory_order_relaxed)) {
        atomic_store_explicit(&r->wake_armed, 0, memory_order_relaxed);
        wake_log_thread();
    }
}

/* ---------------------------------------------------------------------------------------------
 * Files */

static int open_path(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

static void file_destroy(struct or_al_file *f)
{
    if (f == NULL)
        return;
    if (!f->is_std && f->fd >= 0)
        close(f->fd);
    if (f->rings != NULL) {
        for (uint32_t i = 0; i < mgr.n_slots; i++) {
            counter_add(&mgr.retired_lines, atomic_load(&f->rings[i].lines));
            counter_add(&mgr.retired_dropped, atomic_load(&f->rings[i].dropped));
            free(f->rings[i].buf);
        }
        free(f->rings);
    }
    free(f->path);
    free(f);
}

/* Under mgr.lock: finds or opens the file for `path` and takes a reference. */
static int file_get(const char *path, struct or_al_file **out, struct or_err_detail *err,
                    const char *errpath)
{
    for (struct or_al_file *f = mgr.files; f != NULL; f = f->next) {
        if (strcmp(f->path, path) == 0) {
            f->refs++;
            *out = f;
            return 0;
        }
    }
    struct or_al_file *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return OR_ENOMEM;
    f->fd = -1;
    if ((f->path = strdup(path)) == NULL)
        goto fail_nomem;
    size_t rsz = ((sizeof(struct or_al_ring) * mgr.n_slots) + 63) & ~(size_t)63;
    f->rings = aligned_alloc(64, rsz);
    if (f->rings == NULL)
        goto fail_nomem;
    memset(f->rings, 0, rsz);
    for (uint32_t i = 0; i < mgr.n_slots; i++) {
        f->rings[i].mask = mgr.ring_size - 1;
        atomic_store(&f->rings[i].wake_armed, 1);
        if ((f->rings[i].buf = malloc(mgr.ring_size)) == NULL)
            goto fail_nomem;
    }
    /* Envoy writes /dev/stdout and /dev/stderr through the process's own descriptors. */
    if (strcmp(path, "/dev/stdout") == 0) {
        f->fd = STDOUT_FILENO, f->is_std = true;
    } else if (strcmp(path, "/dev/stderr") == 0) {
        f->fd = STDERR_FILENO, f->is_std = true;
    } else if ((f->fd = open_path(path)) < 0) {
        int e = errno;
        file_destroy(f);
        return or_err_set(err, errpath, "unable to open file '%s': %s", path, strerror(e));
    }
    f->reopen_seen = atomic_load(&mgr.reopen_gen);
    f->refs = 1;
    f->next = mgr.files;
    mgr.files = f;
    *out = f;
    return 0;
fail_nomem:
    file_destroy(f);
    return OR_ENOMEM;
}

/* ---------------------------------------------------------------------------------------------
 * Log thread side */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* writev until everything is written. EAGAIN (a non-blocking stdout pipe) waits for POLLOUT up
 * to ~5 s before giving up. Returns false when the data could not be written. */
static bool write_all(int fd, struct iovec *iov, int cnt)
{
    int stalls = 0;
    while (cnt > 0) {
        ssize_t w = writev(fd, iov, cnt);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && stalls++ < 50) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                poll(&p, 1, 100);
                continue;
            }
            return false;
        }
        size_t left = (size_t)w;
        while (cnt > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return true;
}

#define IOV_BATCH 512 /* slots per writev: 2 iovecs each, under IOV_MAX */

/* Writes every ring of f; returns true when something was written. */
static bool flush_file(struct or_al_file *f)
{
    bool wrote = false;
    for (uint32_t base = 0; base < mgr.n_slots; base += IOV_BATCH) {
        uint32_t end = base + IOV_BATCH < mgr.n_slots ? base + IOV_BATCH : mgr.n_slots;
        struct iovec iov[2 * IOV_BATCH];
        uint64_t heads[IOV_BATCH];
        int cnt = 0;
        for (uint32_t i = base; i < end; i++) {
            struct or_al_ring *r = &f->rings[i];
            uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
            uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
            heads[i - base] = h;
            if (h == t)
                continue;
            uint64_t size = r->mask + 1, off = t & r->mask, len = h - t;
            uint64_t first = len < size - off ? len : size - off;
            iov[cnt++] = (struct iovec){r->buf + off, (size_t)first};
            if (first < len)
                iov[cnt++] = (struct iovec){r->buf, (size_t)(len - first)};
        }
        if (cnt == 0)
            continue;
        wrote = true;
        if (write_all(f->fd, iov, cnt))
            counter_add(&mgr.write_completed, 1);
        else
            counter_add(&mgr.write_failed, 1);
        for (uint32_t i = base; i < end; i++) {
            atomic_store_explicit(&f->rings[i].tail, heads[i - base], memory_order_release);
            atomic_store_explicit(&f->rings[i].wake_armed, 1, memory_order_relaxed);
        }
    }
    return wrote;
}

static void reopen_file(struct or_al_file *f)
{
    if (f->is_std)
        return;
    int fd = open_path(f->path);
    if (fd < 0) {
        counter_add(&mgr.reopen_failed, 1);
        or_log_error("main", "unable to reopen access log '%s': %s", f->path, strerror(errno));
        return;
    }
    close(f->fd);
    f->fd = fd;
}

static bool rings_empty(const struct or_al_file *f)
{
    for (uint32_t i = 0; i < mgr.n_slots; i++)
        if (atomic_load(&f->rings[i].head) != atomic_load(&f->rings[i].tail))
            return false;
    return true;
}

/* One pass: reopen where asked, write every file, then retire unreferenced files. */
static void flush_pass(bool by_timer)
{
    pthread_mutex_lock(&mgr.flush_lock);
    pthread_mutex_lock(&mgr.lock);
    size_t n = 0;
    for (struct or_al_file *f = mgr.files; f != NULL; f = f->next) {
        if (n == mgr.scan_cap) {
            size_t cap = mgr.scan_cap ? mgr.scan_cap * 2 : 8;
            struct or_al_file **s = realloc(mgr.scan, cap * sizeof(*s));
            if (s == NULL)
                break;
            mgr.scan = s;
            mgr.scan_cap = cap;
        }
        mgr.scan[n++] = f;
    }
    pthread_mutex_unlock(&mgr.lock);

    /* Files are only freed below, under flush_lock, so the pointers stay valid unlocked. */
    unsigned gen = atomic_load(&mgr.reopen_gen);
    bool wrote = false;
    for (size_t i = 0; i < n; i++) {
        struct or_al_file *f = mgr.scan[i];
        if (f->reopen_seen != gen) {
            f->reopen_seen = gen;
            reopen_file(f);
        }
        wrote |= flush_file(f);
    }
    if (by_timer && wrote)
        counter_add(&mgr.flushed_by_timer, 1);

    pthread_mutex_lock(&mgr.lock);
    for (struct or_al_file **pp = &mgr.files; *pp != NULL;) {
        struct or_al_file *f = *pp;
        if (f->refs == 0 && rings_empty(f)) {
            *pp = f->next;
            file_destroy(f);
        } else {
            pp = &f->next;
        }
    }
    pthread_mutex_unlock(&mgr.lock);
    pthread_mutex_unlock(&mgr.flush_lock);
}

static void *log_thread_main(void *arg)
{
    (void)arg;
    uint64_t next = now_ms() + mgr.interval_ms;
    int efd = atomic_load(&mgr.efd);
    for (;;) {
        uint64_t now = now_ms();
        int timeout = next > now ? (int)(next - now < INT_MAX ? next - now : INT_MAX) : 0;
        struct pollfd p = {.fd = efd, .events = POLLIN};
        if (poll(&p, 1, timeout) > 0 && (p.revents & POLLIN)) {
            uint64_t v;
            ssize_t r = read(efd, &v, sizeof(v));
            (void)r;
        }
        bool stop = atomic_load(&mgr.stop) != 0;
        bool timer = now_ms() >= next;
        flush_pass(timer);
        if (timer)
            next = now_ms() + mgr.interval_ms;
        if (stop)
            break;
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Manager API */

static uint64_t pow2_at_least(uint64_t v)
{
    uint64_t p = 4096;
    while (p < v && p < (1ull << 40))
        p <<= 1;
    return p;
}

int or_access_log_manager_start(const struct or_access_log_manager_opts *opts)
{
    if (opts == NULL || mgr.thread_running)
        return OR_EINVAL;
    uint32_t n_slots = opts->n_workers + 1;
    pthread_mutex_lock(&mgr.lock);
    if (mgr.files != NULL && mgr.n_slots != n_slots) {
        pthread_mutex_unlock(&mgr.lock);
        return OR_EINVAL;
    }
    mgr.n_slots = n_slots;
    mgr.ring_size = pow2_at_least(opts->buffer_bytes ? opts->buffer_bytes : DEFAULT_BUFFER);
    mgr.flush_bytes = opts->flush_bytes ? opts->flush_bytes : DEFAULT_FLUSH;
    if (mgr.flush_bytes > mgr.ring_size / 2)
        mgr.flush_bytes = mgr.ring_size / 4;
    mgr.interval_ms = opts->flush_interval_ms ? opts->flush_interval_ms : DEFAULT_INTERVAL_MS;
    pthread_mutex_unlock(&mgr.lock);

    if (atomic_load(&mgr.efd) < 0) {
        /* Kept for the life of the process: a late worker wake-up never hits a closed fd. */
        int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (efd < 0)
            return OR_ESYS;
        atomic_store(&mgr.efd, efd);
    }
    if (opts->no_thread)
        return 0;
    atomic_store(&mgr.stop, 0);
    if (pthread_create(&mgr.thread, NULL, log_thread_main, NULL) != 0)
        return OR_ESYS;
    mgr.thread_running = true;
    return 0;
}

void or_access_log_manager_stop(void)
{
    if (mgr.thread_running) {
        atomic_store(&mgr.stop, 1);
        wake_log_thread();
        pthread_join(mgr.thread, NULL);
        mgr.thread_running = false;
    }
    flush_pass(false);
    pthread_mutex_lock(&mgr.lock);
    if (mgr.files == NULL)
        mgr.n_slots = 0;
    pthread_mutex_unlock(&mgr.lock);
    pthread_mutex_lock(&mgr.flush_lock);
    free(mgr.scan);
    mgr.scan = NULL;
    mgr.scan_cap = 0;
    pthread_mutex_unlock(&mgr.flush_lock);
}

uint32_t or_access_log_main_slot(void)
{
    return mgr.n_slots ? mgr.n_slots - 1 : 0;
}

void or_access_log_reopen_all(void)
{
    atomic_fetch_add(&mgr.reopen_gen, 1);
    wake_log_thread();
}

void or_access_log_flush(void)
{
    flush_pass(false);
}

void or_access_log_stats_get(struct or_access_log_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&mgr.lock);
    for (struct or_al_file *f = mgr.files; f != NULL; f = f->next) {
        for (uint32_t i = 0; i < mgr.n_slots; i++) {
            const struct or_al_ring *r = &f->rings[i];
            out->write_buffered += atomic_load_explicit(&r->lines, memory_order_relaxed);
            out->dropped_lines += atomic_load_explicit(&r->dropped, memory_order_relaxed);
            out->write_total_buffered += atomic_load(&r->head) - atomic_load(&r->tail);
        }
    }
    pthread_mutex_unlock(&mgr.lock);
    out->write_buffered += atomic_load(&mgr.retired_lines);
    out->dropped_lines += atomic_load(&mgr.retired_dropped);
    out->write_completed = atomic_load(&mgr.write_completed);
    out->write_failed = atomic_load(&mgr.write_failed);
    out->flushed_by_timer = atomic_load(&mgr.flushed_by_timer);
    out->reopen_failed = atomic_load(&mgr.reopen_failed);
}

/* ---------------------------------------------------------------------------------------------
 * Configs */

#define FILE_TYPE "envoy.extensions.access_loggers.file.v3.FileAccessLog"
#define STDOUT_TYPE "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog"
#define STDERR_TYPE "envoy.extensions.access_loggers.stream.v3.StderrAccessLog"

static int default_format(struct or_alog_format **out)
{
    return or_alog_format_compile_text(OR_ALOG_DEFAULT_FORMAT, strlen(OR_ALOG_DEFAULT_FORMAT),
                                       false, out, NULL, "");
}

/* FileAccessLog's format oneof, as Envoy's FileAccessLogFactory reads it. */
static int file_format(const Envoy__Extensions__AccessLoggers__File__V3__FileAccessLog *fal,
                       const char *path, struct or_alog_format **out, struct or_err_detail *err)
{
    char p[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    switch (fal->access_log_format_case) {
    case ENVOY__EXTENSIONS__ACCESS_LOGGERS__FILE__V3__FILE_ACCESS_LOG__ACCESS_LOG_FORMAT_FORMAT:
        if (fal->format == NULL || fal->format[0] == '\0')
            return default_format(out);
        snprintf(p, sizeof(p), "%s.format", path);
        return or_alog_format_compile_text(fal->format, strlen(fal->format), false, out, err, p);
    case ENVOY__EXTENSIONS__ACCESS_LOGGERS__FILE__V3__FILE_ACCESS_LOG__ACCESS_LOG_FORMAT_JSON_FORMAT:
        snprintf(p, sizeof(p), "%s.json_format", path);
        return or_alog_format_compile_json(fal->json_format, false, false, false, out, err, p);
    case ENVOY__EXTENSIONS__ACCESS_LOGGERS__FILE__V3__FILE_ACCESS_LOG__ACCESS_LOG_FORMAT_TYPED_JSON_FORMAT:
        snprintf(p, sizeof(p), "%s.typed_json_format", path);
        return or_alog_format_compile_json(fal->typed_json_format, true, false, false, out, err, p);
    case ENVOY__EXTENSIONS__ACCESS_LOGGERS__FILE__V3__FILE_ACCESS_LOG__ACCESS_LOG_FORMAT_LOG_FORMAT:
        snprintf(p, sizeof(p), "%s.log_format", path);
        return or_alog_format_from_proto(fal->log_format, out, err, p);
    default:
        return default_format(out);
    }
#pragma GCC diagnostic pop
}

static int stream_format(const Envoy__Config__Core__V3__SubstitutionFormatString *sfs,
                         const char *path, struct or_alog_format **out, struct or_err_detail *err)
{
    if (sfs == NULL)
        return default_format(out);
    char p[512];
    snprintf(p, sizeof(p), "%s.log_format", path);
    return or_alog_format_from_proto(sfs, out, err, p);
}

int or_access_log_config_new(const Envoy__Config__Accesslog__V3__AccessLog *pb, const char *path,
                             struct or_access_log_config **out, struct or_err_detail *err)
{
    char tp[512];
    *out = NULL;
    if (path == NULL)
        path = "";
    if (mgr.n_slots == 0)
        return or_err_set(err, path, "access log manager not started");
    if (pb == NULL)
        return or_err_set(err, path, "missing access log");
    snprintf(tp, sizeof(tp), "%s.typed_config", path);
    if (pb->config_type_case != ENVOY__CONFIG__ACCESSLOG__V3__ACCESS_LOG__CONFIG_TYPE_TYPED_CONFIG)
        return or_err_set(err, tp, "typed_config is required for access logger '%s'",
                          pb->name ? pb->name : "");
    ProtobufCMessage *msg = NULL;
    int rc = or_config_unpack_any(pb->typed_config, NULL, &msg, err, tp);
    if (rc != 0)
        return rc;

    struct or_alog_format *fmt = NULL;
    const char *file_path = NULL;
    const char *name = msg->descriptor->name;
    if (strcmp(name, FILE_TYPE) == 0) {
        const Envoy__Extensions__AccessLoggers__File__V3__FileAccessLog *fal = (const void *)msg;
        if (fal->path == NULL || fal->path[0] == '\0') {
            char pp[540];
            snprintf(pp, sizeof(pp), "%s.path", tp);
            rc = or_err_set(err, pp, "value length must be at least 1 characters");
            goto fail_msg;
        }
        file_path = fal->path;
        rc = file_format(fal, tp, &fmt, err);
    } else if (strcmp(name, STDOUT_TYPE) == 0) {
        const Envoy__Extensions__AccessLoggers__Stream__V3__StdoutAccessLog *s = (const void *)msg;
        file_path = "/dev/stdout";
        rc = stream_format(s->log_format, tp, &fmt, err);
    } else if (strcmp(name, STDERR_TYPE) == 0) {
        const Envoy__Extensions__AccessLoggers__Stream__V3__StderrAccessLog *s = (const void *)msg;
        file_path = "/dev/stderr";
        rc = stream_format(s->log_format, tp, &fmt, err);
    } else {
        rc = or_err_set(err, tp, "unsupported access logger type 'type.googleapis.com/%s'", name);
    }
    if (rc != 0)
        goto fail_msg;

    struct or_access_log_config *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        rc = OR_ENOMEM;
        goto fail_fmt;
    }
    cfg->fmt = fmt;
    fmt = NULL;
    cfg->n_slots = mgr.n_slots;
    size_t ssz = (sizeof(struct or_al_slot) * cfg->n_slots + 63) & ~(size_t)63;
    cfg->slots = aligned_alloc(64, ssz);
    if (cfg->slots == NULL) {
        rc = OR_ENOMEM;
        goto fail_cfg;
    }
    memset(cfg->slots, 0, ssz);
    for (uint32_t i = 0; i < cfg->n_slots; i++) {
        if ((cfg->slots[i].cache = or_alog_cache_new(cfg->fmt)) == NULL) {
            rc = OR_ENOMEM;
            goto fail_cfg;
        }
    }
    char pp[540];
    snprintf(pp, sizeof(pp), "%s%s", tp, strcmp(name, FILE_TYPE) == 0 ? ".path" : "");
    pthread_mutex_lock(&mgr.lock);
    rc = file_get(file_path, &cfg->file, err, pp);
    pthread_mutex_unlock(&mgr.lock);
    if (rc != 0)
        goto fail_cfg;
    or_config_free(msg);
    *out = cfg;
    return 0;

fail_cfg:
    or_access_log_config_free(cfg);
fail_fmt:
    or_alog_format_free(fmt);
fail_msg:
    or_config_free(msg);
    return rc;
}

void or_access_log_config_free(struct or_access_log_config *cfg)
{
    if (cfg == NULL)
        return;
    if (cfg->file != NULL) {
        pthread_mutex_lock(&mgr.lock);
        bool last = --cfg->file->refs == 0;
        pthread_mutex_unlock(&mgr.lock);
        /* The log thread writes out and closes an unreferenced file on its next pass; without
         * it, do that now. */
        if (last) {
            if (mgr.thread_running)
                wake_log_thread();
            else
                flush_pass(false);
        }
    }
    if (cfg->slots != NULL) {
        for (uint32_t i = 0; i < cfg->n_slots; i++) {
            or_alog_buf_free(&cfg->slots[i].line);
            or_alog_cache_free(cfg->slots[i].cache);
        }
        free(cfg->slots);
    }
    or_alog_format_free(cfg->fmt);
    free(cfg);
}

void or_access_log_record(struct or_access_log_config *cfg, uint32_t slot,
                          const struct or_access_log_info *info)
{
    if (cfg == NULL || info == NULL || slot >= cfg->n_slots)
        return;
    struct or_al_slot *s = &cfg->slots[slot];
    struct or_al_ring *r = &cfg->file->rings[slot];
    s->line.len = 0;
    s->line.oom = false;
    or_alog_format_render(cfg->fmt, info, s->cache, &s->line);
    if (s->line.oom) {
        atomic_store_explicit(&r->dropped,
                              atomic_load_explicit(&r->dropped, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    } else if (s->line.len > 0) {
        ring_push(r, s->line.p, s->line.len);
    }
    /* A huge line (large headers) should not pin its buffer for the life of the config. */
    if (s->line.cap > 64 * 1024)
        or_alog_buf_free(&s->line);
}

const char *or_access_log_config_path(const struct or_access_log_config *cfg)
{
    return cfg && cfg->file ? cfg->file->path : NULL;
}
