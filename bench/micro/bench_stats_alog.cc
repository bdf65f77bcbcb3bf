// Stats recording (per-worker shard: relaxed load + store) and access-log formatting (Envoy's
// default format into a reused buffer), through the C shim in shim_stats_alog.c.
#include "bench/micro/micro.h"
#include "bench/micro/shim_stats_alog.h"

namespace
{

void *stats_setup()
{
    or_micro_stats *m = or_micro_stats_new();
    or_micro_check(m != nullptr, "stats store");
    return m;
}

void stats_teardown(void *st)
{
    or_micro_stats_free(static_cast<or_micro_stats *>(st));
}

void stats_counter(void *st)
{
    or_micro_stats_counter(static_cast<or_micro_stats *>(st));
}

void stats_response(void *st)
{
    or_micro_stats_response(static_cast<or_micro_stats *>(st));
}

void stats_histogram(void *st)
{
    or_micro_stats_histogram(static_cast<or_micro_stats *>(st));
}

void *alog_setup()
{
    or_micro_alog *a = or_micro_alog_new();
    or_micro_check(a != nullptr, "access log format");
    return a;
}

void alog_teardown(void *st)
{
    or_micro_alog_free(static_cast<or_micro_alog *>(st));
}

void alog_render(void *st)
{
    or_micro_alog_render(static_cast<or_micro_alog *>(st));
}

} // namespace

OR_MICRO_CASE(stats_counter_inc, stats_setup, stats_counter, stats_teardown);
OR_MICRO_CASE(stats_cluster_response, stats_setup, stats_response, stats_teardown);
OR_MICRO_CASE(stats_histogram_record, stats_setup, stats_histogram, stats_teardown);
OR_MICRO_CASE(alog_render_default_format, alog_setup, alog_render, alog_teardown);
