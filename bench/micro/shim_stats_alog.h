/* Stats recording and access-log rendering, callable from the C++ micro benchmark harness. */
#ifndef OR_BENCH_MICRO_SHIM_STATS_ALOG_H
#define OR_BENCH_MICRO_SHIM_STATS_ALOG_H

#ifdef __cplusplus
extern "C" {
#endif

struct or_micro_stats;
struct or_micro_stats *or_micro_stats_new(void);
void or_micro_stats_counter(struct or_micro_stats *m);   /* one counter increment */
void or_micro_stats_response(struct or_micro_stats *m);  /* Envoy's per-response cluster stats */
void or_micro_stats_histogram(struct or_micro_stats *m); /* one histogram sample */
void or_micro_stats_free(struct or_micro_stats *m);

struct or_micro_alog;
struct or_micro_alog *or_micro_alog_new(void);
void or_micro_alog_render(struct or_micro_alog *a); /* Envoy's default format, one record */
void or_micro_alog_free(struct or_micro_alog *a);

#ifdef __cplusplus
}
#endif

#endif
