/* Envoy's response flags: the short and long names in CORE_RESPONSE_FLAGS order. */
#include "proxy/accesslog/flags.h"
#include "proxy/accesslog/format.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Response flags, in Envoy's CORE_RESPONSE_FLAGS order */

static const struct {
    uint32_t bit;
    const char *s; /* static: short name */
    const char *l; /* static: long name */
} flag_names[] = {
    {OR_AL_RF_LH, "LH", "FailedLocalHealthCheck"},
    {OR_AL_RF_UH, "UH", "NoHealthyUpstream"},
    {OR_AL_RF_UT, "UT", "UpstreamRequestTimeout"},
    {OR_AL_RF_LR, "LR", "LocalReset"},
    {OR_AL_RF_UR, "UR", "UpstreamRemoteReset"},
    {OR_AL_RF_UF, "UF", "UpstreamConnectionFailure"},
    {OR_AL_RF_UC, "UC", "UpstreamConnectionTermination"},
    {OR_AL_RF_UO, "UO", "UpstreamOverflow"},
    {OR_AL_RF_NR, "NR", "NoRouteFound"},
    {OR_AL_RF_DI, "DI", "DelayInjected"},
    {OR_AL_RF_FI, "FI", "FaultInjected"},
    {OR_AL_RF_RL, "RL", "RateLimited"},
    {OR_AL_RF_UAEX, "UAEX", "UnauthorizedExternalService"},
    {OR_AL_RF_RLSE, "RLSE", "RateLimitServiceError"},
    {OR_AL_RF_DC, "DC", "DownstreamConnectionTermination"},
    {OR_AL_RF_URX, "URX", "UpstreamRetryLimitExceeded"},
    {OR_AL_RF_SI, "SI", "StreamIdleTimeout"},
    {OR_AL_RF_IH, "IH", "InvalidEnvoyRequestHeaders"},
    {OR_AL_RF_DPE, "DPE", "DownstreamProtocolError"},
    {OR_AL_RF_UMSDR, "UMSDR", "UpstreamMaxStreamDurationReached"},
    {OR_AL_RF_RFCF, "RFCF", "ResponseFromCacheFilter"},
    {OR_AL_RF_NFCF, "NFCF", "NoFilterConfigFound"},
    {OR_AL_RF_DT, "DT", "DurationTimeout"},
    {OR_AL_RF_UPE, "UPE", "UpstreamProtocolError"},
    {OR_AL_RF_NC, "NC", "NoClusterFound"},
    {OR_AL_RF_OM, "OM", "OverloadManagerTerminated"},
    {OR_AL_RF_DF, "DF", "DnsResolutionFailed"},
    {OR_AL_RF_DO, "DO", "DropOverload"},
    {OR_AL_RF_DR, "DR", "DownstreamRemoteReset"},
};

size_t or_access_log_flags_str(uint32_t flags, bool long_names, char *buf, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
        if (!(flags & flag_names[i].bit))
            continue;
        const char *s = long_names ? flag_names[i].l : flag_names[i].s;
        size_t sl = strlen(s);
        if (n > 0) {
            if (n < len)
                buf[n] = ',';
            n++;
        }
        for (size_t j = 0; j < sl; j++, n++)
            if (n < len)
                buf[n] = s[j];
    }
    if (n == 0) {
        if (len > 0)
            buf[0] = '-';
        n = 1;
    }
    if (len > 0)
        buf[n < len ? n : len - 1] = '\0';
    return n;
}

uint32_t or_access_log_flag_parse(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
        if (strlen(flag_names[i].s) == len && memcmp(flag_names[i].s, name, len) == 0)
            return flag_names[i].bit;
    return 0;
}
