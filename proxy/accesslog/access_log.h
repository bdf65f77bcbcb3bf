/* Access loggers (envoy.access_loggers.file / stdout / stderr) and the process-wide writer behind
 * them.
 *
 * Threads and memory:
 *  - Every file (shared by path: two loggers on "/dev/stdout" write to one fd) has one bounded
 *    single-producer ring per *slot*: slot i < n_workers belongs to worker i, slot n_workers
 *    (or_access_log_main_slot()) to the main thread (admin access log).
 *  - or_access_log_record() formats into the calling slot's own line buffer and copies the line
 *    into that slot's ring: no lock, no atomic read-modify-write, no system call except one
 *    non-blocking eventfd write when the ring passes flush_bytes (at most once per flush).
 *    When the ring is full the line is dropped and counted, the worker never waits.
 *  - A log thread writes the rings out (one writev per file) every flush_interval_ms, when woken
 *    by a filling ring, on reopen, and on stop. Lines are written whole and never interleaved.
 *  - Reopen (SIGUSR1, /reopen_logs) closes and reopens every file by path on the log thread, so
 *    renamed (rotated) files are released; "/dev/stdout" and "/dev/stderr" are the process's fds
 *    1 and 2 and are never reopened or closed. */
#ifndef OR_ACCESSLOG_ACCESS_LOG_H
#define OR_ACCESSLOG_ACCESS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envoy/config/accesslog/v3/accesslog.pb-c.h"
#include "proxy/accesslog/flags.h"
#include "proxy/accesslog/info.h"
#include "proxy/core/err.h"

struct or_access_log_config;

struct or_access_log_manager_opts {
    uint32_t n_workers;         /* worker threads (slots 0..n_workers-1); main gets one more */
    uint32_t flush_interval_ms; /* --file-flush-interval-msec; 0 = Envoy's default 10000 */
    size_t buffer_bytes;        /* ring per file per slot, rounded up to a power of two;
                                   0 = 1 MiB. Lines beyond it are dropped and counted. */
    size_t flush_bytes;         /* wake the log thread when a ring holds this much; 0 = 64 KiB
                                   (Envoy's min_flush_size) */
    bool no_thread;             /* no log thread: data leaves only via or_access_log_flush()
                                   (tests, --mode validate) */
};

/* Envoy's filesystem.* stats for access log files, summed over files and slots. */
struct or_access_log_stats {
    uint64_t write_buffered;       /* lines accepted into a ring */
    uint64_t write_completed;      /* successful writev calls */
    uint64_t write_failed;         /* writev calls that failed (their data is lost) */
    uint64_t flushed_by_timer;     /* flushes due to the interval */
    uint64_t reopen_failed;        /* reopen attempts that could not open the path */
    uint64_t write_total_buffered; /* gauge: bytes waiting in rings now */
    uint64_t dropped_lines;        /* lines dropped because a ring was full (Outrider-only) */
};

/* Main thread, once, before the first or_access_log_config_new(): sizes the slots and starts the
 * log thread (unless opts->no_thread). May be called again after or_access_log_manager_stop()
 * when no file is open any more. 0, OR_EINVAL (already started, or n_workers differs from files
 * still open), OR_ENOMEM or OR_ESYS. */
int or_access_log_manager_start(const struct or_access_log_manager_opts *opts);

/* Main thread, after the workers have stopped recording: writes everything out and joins the log
 * thread. Files stay open until their last config is freed (which then writes and closes them
 * on the calling thread). */
void or_access_log_manager_stop(void);

/* The main thread's slot (admin access log): n_workers. */
uint32_t or_access_log_main_slot(void);

/* Asks the log thread to reopen every file (and flush). Async-signal-safe: a SIGUSR1 handler may
 * call it directly. Without a log thread the reopen happens at the next or_access_log_flush(). */
void or_access_log_reopen_all(void);

/* Writes out everything recorded so far, on the calling thread (not a worker: it blocks on the
 * file). Performs pending reopens first. */
void or_access_log_flush(void);

void or_access_log_stats_get(struct or_access_log_stats *out);

/* Main thread: validates and compiles one config.accesslog.v3.AccessLog (typed_config =
 * FileAccessLog / StdoutAccessLog / StderrAccessLog) and opens its file. `path` is the field path
 * of the AccessLog, e.g. "static_resources.listeners[0]...typed_config.access_log[0]"; errors
 * name the exact field ("<path>.typed_config.log_format.text_format_source.inline_string:
 * Not supported field in StreamInfo: FOO"). Needs or_access_log_manager_start() first.
 * Returns 0 with *out owned by the caller, OR_EINVAL, OR_ENOMEM. */
int or_access_log_config_new(const Envoy__Config__Accesslog__V3__AccessLog *pb, const char *path,
                             struct or_access_log_config **out, struct or_err_detail *err);

/* Main thread, once no slot can record on it any more (the snapshot is released). NULL ok. */
void or_access_log_config_free(struct or_access_log_config *cfg);

/* Worker (slot = its worker id) or main thread (slot = or_access_log_main_slot()): formats the
 * record and queues the line. Each slot must be used by one thread at a time. Never blocks. */
void or_access_log_record(struct or_access_log_config *cfg, uint32_t slot,
                          const struct or_access_log_info *info);

/* The logger's file path ("/dev/stdout" for StdoutAccessLog). */
const char *or_access_log_config_path(const struct or_access_log_config *cfg);

#endif
