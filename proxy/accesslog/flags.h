/* Envoy's response flags as a bitmask. Bits 0..11 are the same values as the OR_RF_* enum in
 * proxy/http/stream.h (a unit test checks it), so a stream's resp_flags can be handed to the access
 * log unchanged. The rest are the other flags Envoy defines; nothing sets them yet.
 *
 * %RESPONSE_FLAGS% prints the set flags in Envoy's order (ResponseFlagUtils::CORE_RESPONSE_FLAGS):
 *   LH UH UT LR UR UF UC UO NR DI FI RL UAEX RLSE DC URX SI IH DPE UMSDR RFCF NFCF DT UPE NC OM DF
 * DO DR joined by ',' ("UF,URX"), or "-" when none is set. */
#ifndef OR_ACCESSLOG_FLAGS_H
#define OR_ACCESSLOG_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    OR_AL_RF_NR = 1u << 0,     /* NoRouteFound: no route (404) */
    OR_AL_RF_UH = 1u << 1,     /* NoHealthyUpstream (503) */
    OR_AL_RF_UF = 1u << 2,     /* UpstreamConnectionFailure (503) */
    OR_AL_RF_UO = 1u << 3,     /* UpstreamOverflow: circuit breaker (503) */
    OR_AL_RF_UT = 1u << 4,     /* UpstreamRequestTimeout (504) */
    OR_AL_RF_UC = 1u << 5,     /* UpstreamConnectionTermination (503) */
    OR_AL_RF_URX = 1u << 6,    /* UpstreamRetryLimitExceeded */
    OR_AL_RF_DC = 1u << 7,     /* DownstreamConnectionTermination */
    OR_AL_RF_LR = 1u << 8,     /* LocalReset (503) */
    OR_AL_RF_LH = 1u << 9,     /* FailedLocalHealthCheck (503) */
    OR_AL_RF_DPE = 1u << 10,   /* DownstreamProtocolError */
    OR_AL_RF_SI = 1u << 11,    /* StreamIdleTimeout (408) */
    OR_AL_RF_UR = 1u << 12,    /* UpstreamRemoteReset (503) */
    OR_AL_RF_UPE = 1u << 13,   /* UpstreamProtocolError */
    OR_AL_RF_NC = 1u << 14,    /* NoClusterFound */
    OR_AL_RF_DT = 1u << 15,    /* DurationTimeout: max_connection_duration */
    OR_AL_RF_UMSDR = 1u << 16, /* UpstreamMaxStreamDurationReached */
    OR_AL_RF_OM = 1u << 17,    /* OverloadManagerTerminated */
    OR_AL_RF_DF = 1u << 18,    /* DnsResolutionFailed */
    OR_AL_RF_DR = 1u << 19,    /* DownstreamRemoteReset */
    OR_AL_RF_IH = 1u << 20,    /* InvalidEnvoyRequestHeaders (400) */
    OR_AL_RF_RL = 1u << 21,    /* RateLimited (429) */
    OR_AL_RF_DI = 1u << 22,    /* DelayInjected */
    OR_AL_RF_FI = 1u << 23,    /* FaultInjected */
    OR_AL_RF_UAEX = 1u << 24,  /* UnauthorizedExternalService */
    OR_AL_RF_RLSE = 1u << 25,  /* RateLimitServiceError */
    OR_AL_RF_RFCF = 1u << 26,  /* ResponseFromCacheFilter */
    OR_AL_RF_NFCF = 1u << 27,  /* NoFilterConfigFound */
    OR_AL_RF_DO = 1u << 28,    /* DropOverload */
};

/* Writes the flags as %RESPONSE_FLAGS% (long_names false: "UF,URX") or %RESPONSE_FLAGS_LONG%
 * (long_names true: "UpstreamConnectionFailure,UpstreamRetryLimitExceeded") prints them; "-" when
 * none is set. Always NUL-terminates when len > 0; returns the length the full text needs (as
 * snprintf), so 160 bytes hold any short form. */
size_t or_access_log_flags_str(uint32_t flags, bool long_names, char *buf, size_t len);

/* Parses one short flag name ("UF") into its bit; 0 when unknown. */
uint32_t or_access_log_flag_parse(const char *name, size_t len);

#endif
