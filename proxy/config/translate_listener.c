/* Listener and HTTP connection manager translation: envoy.config.listener.v3.Listener and
 * envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager → runtime. */
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb-c.h"
#include "proxy/accesslog/access_log.h"
#include "proxy/config/reflect.h"
#include "proxy/config/snapshot.h"
#include "proxy/config/translate_route.h"
#include "proxy/router/route_table.h"
#include "proxy/upstream/host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HCM_TYPE_URL                                                                               \
    "type.googleapis.com/"                                                                         \
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"

static uint64_t duration_ms(const Google__Protobuf__Duration *d, uint64_t dflt)
{
    if (d == NULL)
        return dflt;
    return (uint64_t)d->seconds * 1000u + (uint64_t)d->nanos / 1000000u;
}

void or_hcm_config_free(struct or_hcm_config *c)
{
    if (c == NULL)
        return;
    for (unsigned i = 0; i < c->nfilters; i++)
        if (c->filters[i].type->config_free != NULL)
            c->filters[i].type->config_free(c->filters[i].cfg);
    free(c->filters);
    for (unsigned i = 0; i < c->n_access_logs; i++)
        or_access_log_config_free(c->access_logs[i]);
    free(c->access_logs);
    if (c->routes != NULL)
        or_route_table_free(c->routes);
    free(c->stat_prefix);
    free(c->server_name);
    free(c);
}

static int add_filter(struct or_hcm_config *c, const struct or_http_filter_type *t,
                      const Google__Protobuf__Any *any, const char *path, struct or_err_detail *err)
{
    ProtobufCMessage *msg = NULL;
    char p[320];
    snprintf(p, sizeof(p), "%s.typed_config", path);
    if (any != NULL && or_config_unpack_any(any, t->config_desc, &msg, err, p) != 0)
        return OR_EINVAL;
    void *cfg = NULL;
    int r = t->config_new != NULL ? t->config_new(msg, &cfg, err, p) : 0;
    or_config_free(msg);
    if (r != 0)
        return OR_EINVAL;
    c->filters[c->nfilters].type = t;
    c->filters[c->nfilters].cfg = cfg;
    c->nfilters++;
    return 0;
}

static int hcm_from_proto(
    const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager *m,
    const char *path, uint32_t buffer_limit, struct or_hcm_config **out, struct or_err_detail *err)
{
    char p[320];
    struct or_hcm_config *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return OR_ENOMEM;
    if (m->stat_prefix == NULL || m->stat_prefix[0] == '\0') {
        snprintf(p, sizeof(p), "%s.stat_prefix", path);
        or_err_set(err, p, "stat_prefix is required");
        goto fail;
    }
    c->stat_prefix = strdup(m->stat_prefix);
    switch (m->codec_type) {
    case ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__CODEC_TYPE__AUTO:
        c->codec_type = OR_CODEC_AUTO;
        break;
    case ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__CODEC_TYPE__HTTP1:
        c->codec_type = OR_CODEC_HTTP1;
        break;
    default:
        snprintf(p, sizeof(p), "%s.codec_type", path);
        or_err_set(err, p, "codec_type %d is not supported yet (AUTO and HTTP1 are)",
                   (int)m->codec_type);
        goto fail;
    }
    c->use_remote_address = m->use_remote_address != NULL && m->use_remote_address->value;
    c->xff_num_trusted_hops = m->xff_num_trusted_hops;
    c->generate_request_id = m->generate_request_id == NULL || m->generate_request_id->value;
    c->server_name = strdup(m->server_name != NULL && m->server_name[0] ? m->server_name : "envoy");
    c->idle_timeout_ms = duration_ms(
        m->common_http_protocol_options ? m->common_http_protocol_options->idle_timeout : NULL,
        3600u * 1000u);
    c->stream_idle_timeout_ms = duration_ms(m->stream_idle_timeout, 300u * 1000u);
    c->request_timeout_ms = duration_ms(m->request_timeout, 0);
    c->request_headers_timeout_ms = duration_ms(m->request_headers_timeout, 0);
    c->max_request_headers_kb = m->max_request_headers_kb ? m->max_request_headers_kb->value : 60;
    if (c->max_request_headers_kb == 0 || c->max_request_headers_kb > 8192) {
        snprintf(p, sizeof(p), "%s.max_request_headers_kb", path);
        or_err_set(err, p, "must be between 1 and 8192");
        goto fail;
    }
    c->buffer_limit = buffer_limit;
    if (m->route_specifier_case !=
        ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__ROUTE_SPECIFIER_ROUTE_CONFIG) {
        snprintf(p, sizeof(p), "%s.route_config", path);
        or_err_set(err, p, "an inline route_config is required (rds is not supported yet)");
        goto fail;
    }
    snprintf(p, sizeof(p), "%s.route_config", path);
    if (or_route_table_from_proto(m->route_config, p, &c->routes, err) != 0)
        goto fail;
    if (m->n_access_log > 0) {
        c->access_logs = calloc(m->n_access_log, sizeof(*c->access_logs));
        if (c->access_logs == NULL)
            goto fail;
        for (size_t i = 0; i < m->n_access_log; i++) {
            snprintf(p, sizeof(p), "%s.access_log[%zu]", path, i);
            if (or_access_log_config_new(m->access_log[i], p, &c->access_logs[i], err) != 0)
                goto fail;
            c->n_access_logs++;
        }
    }

    /* An empty http_filters means the router alone, as in Envoy. */
    c->filters = calloc(m->n_http_filters + 1, sizeof(*c->filters));
    if (c->filters == NULL)
        goto fail;
    for (size_t i = 0; i < m->n_http_filters; i++) {
        const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpFilter *hf =
            m->http_filters[i];
        snprintf(p, sizeof(p), "%s.http_filters[%zu]", path, i);
        const struct or_http_filter_type *t = NULL;
        const Google__Protobuf__Any *any = NULL;
        if (hf->config_type_case ==
            ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_FILTER__CONFIG_TYPE_TYPED_CONFIG) {
            any = hf->typed_config;
            t = or_http_filter_find_by_type_url(any->type_url);
            if (t == NULL) {
                char pp[340];
                snprintf(pp, sizeof(pp), "%s.typed_config", p);
                or_err_set(err, pp, "unsupported HTTP filter type '%s'", any->type_url);
                goto fail;
            }
        } else {
            t = or_http_filter_find_by_name(hf->name);
            if (t == NULL) {
                char pp[340];
                snprintf(pp, sizeof(pp), "%s.name", p);
                or_err_set(err, pp, "unknown HTTP filter '%s' (and no typed_config)", hf->name);
                goto fail;
            }
        }
        if (t->terminal && i + 1 != m->n_http_filters) {
            or_err_set(err, p,
                       "terminal filter named %s of type %s must be the last filter in a http "
                       "filter chain.",
                       hf->name, t->name);
            goto fail;
        }
        if (!t->terminal && i + 1 == m->n_http_filters) {
            or_err_set(err, p,
                       "non-terminal filter named %s of type %s is the last filter in a http "
                       "filter chain.",
                       hf->name, t->name);
            goto fail;
        }
        if (add_filter(c, t, any, p, err) != 0)
            goto fail;
    }
    if (m->n_http_filters == 0) {
        const struct or_http_filter_type *router =
            or_http_filter_find_by_name("envoy.filters.http.router");
        if (add_filter(c, router, NULL, path, err) != 0)
            goto fail;
    }
    *out = c;
    return 0;
fail:
    or_hcm_config_free(c);
    return OR_EINVAL;
}

static int address_from_proto(const Envoy__Config__Core__V3__Address *a, const char *path,
                              struct or_listener_rt *out, struct or_err_detail *err)
{
    char p[320];
    if (a == NULL) {
        snprintf(p, sizeof(p), "%s.address", path);
        return or_err_set(err, p, "a listener needs an address");
    }
    if (a->address_case != ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_SOCKET_ADDRESS) {
        snprintf(p, sizeof(p), "%s.address", path);
        return or_err_set(err, p, "only socket_address listeners are supported yet");
    }
    const Envoy__Config__Core__V3__SocketAddress *sa = a->socket_address;
    snprintf(p, sizeof(p), "%s.address.socket_address", path);
    if (sa->protocol != ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PROTOCOL__TCP) {
        char pp[340];
        snprintf(pp, sizeof(pp), "%s.protocol", p);
        return or_err_set(err, pp, "only TCP listeners are supported");
    }
    if (sa->port_specifier_case !=
            ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE ||
        sa->port_value > 65535) {
        char pp[340];
        snprintf(pp, sizeof(pp), "%s.port_value", p);
        return or_err_set(err, pp, "port_value between 0 and 65535 is required");
    }
    if (or_sockaddr_from_ip(sa->address, (uint16_t)sa->port_value, &out->addr, &out->addrlen) !=
        0) {
        char pp[340];
        snprintf(pp, sizeof(pp), "%s.address", p);
        return or_err_set(err, pp, "malformed IP address: %s", sa->address);
    }
    /* Envoy binds IPv6 listeners v6-only unless ipv4_compat asks for dual stack. */
    out->v6only = out->addr.ss_family == AF_INET6 && !sa->ipv4_compat;
    or_sockaddr_format((struct sockaddr *)&out->addr, out->addrlen, out->addr_str,
                       sizeof(out->addr_str));
    return 0;
}

int or_listener_from_proto(const Envoy__Config__Listener__V3__Listener *l, const char *path,
                           struct or_listener_rt *out, struct or_err_detail *err)
{
    char p[320];
    memset(out, 0, sizeof(*out));
    if (l->name == NULL || l->name[0] == '\0') {
        snprintf(p, sizeof(p), "%s.name", path);
        return or_err_set(err, p, "a listener needs a name");
    }
    if (address_from_proto(l->address, path, out, err) != 0)
        return OR_EINVAL;
    out->direction = (enum or_traffic_direction)l->traffic_direction;
    uint32_t limit = l->per_connection_buffer_limit_bytes
                         ? l->per_connection_buffer_limit_bytes->value
                         : 1u << 20;
    if (l->n_filter_chains != 1) {
        snprintf(p, sizeof(p), "%s.filter_chains", path);
        return or_err_set(err, p,
                          "exactly one filter chain is supported yet (filter_chain_match is not)");
    }
    const Envoy__Config__Listener__V3__FilterChain *fc = l->filter_chains[0];
    if (fc->n_filters != 1) {
        snprintf(p, sizeof(p), "%s.filter_chains[0].filters", path);
        return or_err_set(
            err, p,
            "exactly one network filter, envoy.filters.network.http_connection_manager, "
            "is supported yet");
    }
    const Envoy__Config__Listener__V3__Filter *f = fc->filters[0];
    snprintf(p, sizeof(p), "%s.filter_chains[0].filters[0]", path);
    if (f->config_type_case != ENVOY__CONFIG__LISTENER__V3__FILTER__CONFIG_TYPE_TYPED_CONFIG) {
        char pp[340];
        snprintf(pp, sizeof(pp), "%s.typed_config", p);
        return or_err_set(err, pp, "typed_config is required for %s", f->name);
    }
    if (strcmp(f->typed_config->type_url, HCM_TYPE_URL) != 0) {
        char pp[340];
        snprintf(pp, sizeof(pp), "%s.typed_config", p);
        return or_err_set(err, pp, "unsupported network filter type '%s'",
                          f->typed_config->type_url);
    }
    char pp[340];
    snprintf(pp, sizeof(pp), "%s.typed_config", p);
    ProtobufCMessage *msg = NULL;
    if (or_config_unpack_any(
            f->typed_config,
            &envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__descriptor,
            &msg, err, pp) != 0)
        return OR_EINVAL;
    int r = hcm_from_proto(
        (const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager
             *)msg,
        pp, limit, &out->hcm, err);
    or_config_free(msg);
    if (r != 0)
        return r;
    out->name = strdup(l->name);
    return 0;
}

void or_listener_rt_deinit(struct or_listener_rt *l)
{
    free(l->name);
    or_hcm_config_free(l->hcm);
    memset(l, 0, sizeof(*l));
}
