#include "proxy/http/forwarding.h"
#include "proxy/core/err.h"
#include "proxy/http/hcm_config.h"
#include "proxy/http/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* x-envoy-* request headers Envoy does not accept from an external client at the edge
 * (cleanInternalHeaders). */
static const char *const untrusted_envoy_headers[] = {
    "x-envoy-internal",
    "x-envoy-retry-on",
    "x-envoy-retry-grpc-on",
    "x-envoy-max-retries",
    "x-envoy-upstream-rq-timeout-ms",
    "x-envoy-upstream-rq-per-try-timeout-ms",
    "x-envoy-upstream-rq-timeout-alt-response",
    "x-envoy-expected-rq-timeout-ms",
    "x-envoy-force-trace",
    "x-envoy-decorator-operation",
    "x-envoy-downstream-service-cluster",
    "x-envoy-downstream-service-node",
    "x-envoy-upstream-alt-stat-name",
    "x-envoy-retriable-status-codes",
    "x-envoy-retriable-header-names",
    "x-envoy-hedge-on-per-try-timeout",
    "x-envoy-ip-tags",
    "x-envoy-original-url",
};

/* Whether a request header is one an edge proxy must not take from an external client. */
static bool is_untrusted_envoy_header(const struct or_header *e, void *arg)
{
    struct or_str name = e->name;
    static const size_t prefix = sizeof("x-envoy-") - 1;
    if (name.len <= prefix || memcmp(name.ptr, "x-envoy-", prefix) != 0)
        return false;
    for (size_t i = 0; i < sizeof(untrusted_envoy_headers) / sizeof(*untrusted_envoy_headers); i++)
        if (or_str_eq_lit(name, untrusted_envoy_headers[i]))
            return true;
    return false;
}

bool or_forwarding_is_internal(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
        return (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) || (a >> 16) == (192u << 8 | 168) ||
               (a >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        if ((a->s6_addr[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
            return true;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            struct sockaddr_in v4 = {.sin_family = AF_INET};
            memcpy(&v4.sin_addr, &a->s6_addr[12], 4);
            return or_forwarding_is_internal((struct sockaddr *)&v4);
        }
    }
    return false;
}

static size_t ip_string(const struct sockaddr *sa, char *buf, size_t len)
{
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)len);
    else
        snprintf(buf, len, "unknown");
    return strlen(buf);
}

/* The address `hops` entries from the right of x-forwarded-for (0 = last), parsed as an IP. */
static bool xff_entry(const struct or_str *xff, uint32_t hops, struct sockaddr_storage *out)
{
    const char *end = xff->ptr + xff->len;
    for (uint32_t i = 0;; i++) {
        const char *comma = end;
        while (comma > xff->ptr && comma[-1] != ',')
            comma--;
        if (i == hops) {
            const char *b = comma, *e = end;
            while (b < e && (*b == ' ' || *b == '\t'))
                b++;
            while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            char ip[64];
            if ((size_t)(e - b) == 0 || (size_t)(e - b) >= sizeof(ip))
                return false;
            memcpy(ip, b, (size_t)(e - b));
            ip[e - b] = '\0';
            memset(out, 0, sizeof(*out));
            struct sockaddr_in *s4 = (struct sockaddr_in *)out;
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
            if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
                s4->sin_family = AF_INET;
                return true;
            }
            if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
                s6->sin6_family = AF_INET6;
                return true;
            }
            return false;
        }
        if (comma == xff->ptr)
            return false;
        end = comma - 1;
    }
}

static int append_xff(struct or_headers *h, const char *ip)
{
    const struct or_str *xff = or_headers_get(h, "x-forwarded-for");
    if (xff == NULL || xff->len == 0)
        return or_headers_set(h, "x-forwarded-for", ip, strlen(ip));
    size_t n = xff->len + 1 + strlen(ip);
    char *v = or_arena_alloc(h->arena, n + 1);
    if (v == NULL)
        return OR_ENOMEM;
    /* Envoy appends with a bare comma (Utility::appendXff). */
    snprintf(v, n + 1, "%.*s,%s", (int)xff->len, xff->ptr, ip);
    return or_headers_set(h, "x-forwarded-for", v, n);
}

int or_forwarding_mutate_request(struct or_headers *h, const struct or_hcm_config *cfg,
                                 const struct or_forwarding_ctx *ctx)
{
    const char *proto = ctx->tls ? "https" : "http";
    const struct or_str *xff = or_headers_get(h, "x-forwarded-for");
    bool single_xff = xff == NULL;
    struct sockaddr_storage final;
    bool have_final = false;
    char ip[INET6_ADDRSTRLEN];

    if (cfg->use_remote_address) {
        /* Trusted proxies in front of us name the client in XFF; else it is our peer. */
        if (cfg->xff_num_trusted_hops > 0 && xff != NULL)
            have_final = xff_entry(xff, cfg->xff_num_trusted_hops - 1, &final);
        if (!have_final) {
            memcpy(&final, ctx->remote,
                   ctx->remote->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                      : sizeof(struct sockaddr_in));
            have_final = true;
        }
        /* A loopback peer is recorded as our own address, as Envoy does. */
        const struct sockaddr *who = ctx->remote;
        struct sockaddr_in *r4 = (struct sockaddr_in *)ctx->remote;
        if (ctx->remote->sa_family == AF_INET && (ntohl(r4->sin_addr.s_addr) >> 24) == 127)
            who = ctx->local;
        ip_string(who, ip, sizeof(ip));
        if (append_xff(h, ip) != 0)
            return OR_ENOMEM;
        if (cfg->xff_num_trusted_hops == 0 || or_headers_get(h, "x-forwarded-proto") == NULL)
            or_headers_set(h, "x-forwarded-proto", proto, strlen(proto));
    } else if (xff != NULL) {
        have_final = xff_entry(xff, cfg->xff_num_trusted_hops, &final);
    }
    if (or_headers_get(h, "x-forwarded-proto") == NULL)
        or_headers_add_ref(h, OR_STR_LIT("x-forwarded-proto"), or_str_cstr(proto));

    bool internal =
        have_final && single_xff && or_forwarding_is_internal((struct sockaddr *)&final);
    bool edge = cfg->use_remote_address;
    if (internal) {
        or_headers_set(h, "x-envoy-internal", "true", 4);
    } else if (!edge) {
        or_headers_remove(h, "x-envoy-internal");
    } else {
        /* At the edge nothing in this list comes from an external client, x-envoy-internal
         * included: one pass over the headers for all of them. */
        or_headers_remove_if(h, is_untrusted_envoy_header, NULL);
        if (have_final) {
            ip_string((struct sockaddr *)&final, ip, sizeof(ip));
            or_headers_set(h, "x-envoy-external-address", ip, strlen(ip));
        }
        /* An external client's request id is not trusted at the edge. */
        or_headers_remove(h, "x-request-id");
    }
    if (cfg->generate_request_id && or_headers_get(h, "x-request-id") == NULL) {
        char *id = or_arena_alloc(h->arena, 37);
        if (id == NULL)
            return OR_ENOMEM;
        or_uuid4(id, ctx->rand1, ctx->rand2);
        or_headers_add_ref(h, OR_STR_LIT("x-request-id"), or_str_make(id, 36));
    }
    return 0;
}
