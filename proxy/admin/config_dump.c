/* GET /config_dump built as envoy.admin.v3 messages (the reverse of the reflection layer), and the
 * registration of /config_dump, /clusters and /listeners.
 *
 * Every message of a dump lives in one arena and may point at the borrowed bootstrap: nothing is
 * copied except what a field mask changes, and that is changed in shallow copies, so the loaded
 * configuration is never written. */
#include "proxy/admin/config_dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "envoy/admin/v3/config_dump.pb-c.h"
#include "envoy/admin/v3/config_dump_shared.pb-c.h"
#include "envoy/config/endpoint/v3/endpoint.pb-c.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "proxy/admin/admin.h"
#include "proxy/config/snapshot.h"
#include "proxy/config/types.h"
#include "proxy/core/arena.h"
#include "proxy/core/err.h"
#include "proxy/router/regex.h"
#include "proxy/upstream/cluster.h"
#include "proxy/upstream/cluster_manager.h"
#include "proxy/upstream/host.h"

#define TYPE_URL_PREFIX "type.googleapis.com/"

/* The parts of a dump, at most one per ConfigTracker key. */
#define MAX_PARTS 8

struct dump {
    struct or_arena a;
    const struct or_admin_dump_src *src;       /* borrowed */
    const struct or_admin_dump_query *q;       /* borrowed */
    Google__Protobuf__Timestamp *last_updated; /* arena: shared by every part */
    ProtobufCMessage *parts[MAX_PARTS];        /* arena: the dump messages, in Envoy's order */
    size_t n_parts;
};

static const Envoy__Config__Bootstrap__V3__Bootstrap__StaticResources *
static_resources(const struct dump *d)
{
    return d->src->bootstrap != NULL ? d->src->bootstrap->static_resources : NULL;
}

static bool name_ok(const struct dump *d, const char *name)
{
    return d->q->name_re == NULL || or_regex_full_match(d->q->name_re, name, strlen(name));
}

static void *new_msg(struct dump *d, const ProtobufCMessageDescriptor *desc)
{
    return or_admin__pb_new(&d->a, desc);
}

/* An arena array of n pointers (never NULL for n == 0, so OOM stays distinguishable). */
static void *new_array(struct dump *d, size_t n)
{
    return or_arena_alloc(&d->a, (n ? n : 1) * sizeof(void *));
}

/* m packed into an Any of its own type. */
static Google__Protobuf__Any *pack_any(struct or_arena *a, const ProtobufCMessage *m)
{
    Google__Protobuf__Any *any =
        (Google__Protobuf__Any *)or_admin__pb_new(a, &google__protobuf__any__descriptor);
    if (any == NULL)
        return NULL;
    size_t n = protobuf_c_message_get_packed_size(m);
    size_t name_len = strlen(m->descriptor->name);
    any->value.data = or_arena_alloc(a, n ? n : 1);
    any->type_url = or_arena_alloc(a, sizeof(TYPE_URL_PREFIX) + name_len);
    if (any->value.data == NULL || any->type_url == NULL)
        return NULL;
    any->value.len = protobuf_c_message_pack(m, any->value.data);
    memcpy(any->type_url, TYPE_URL_PREFIX, sizeof(TYPE_URL_PREFIX) - 1);
    memcpy(any->type_url + sizeof(TYPE_URL_PREFIX) - 1, m->descriptor->name, name_len + 1);
    return any;
}

/* ---- the parts ---- */

static int add_part(struct dump *d, void *m)
{
    if (m == NULL)
        return OR_ENOMEM;
    d->parts[d->n_parts++] = m;
    return 0;
}

/* Envoy dumps its bootstrap after server start-up filled node.user_agent_name ("envoy" unless the
 * config set one). The node is changed in a shallow copy. */
static int bootstrap_part(struct dump *d)
{
    Envoy__Admin__V3__BootstrapConfigDump *bd =
        new_msg(d, &envoy__admin__v3__bootstrap_config_dump__descriptor);
    Envoy__Config__Bootstrap__V3__Bootstrap *b =
        or_arena_alloc(&d->a, sizeof(Envoy__Config__Bootstrap__V3__Bootstrap));
    Envoy__Config__Core__V3__Node *node =
        or_arena_alloc(&d->a, sizeof(Envoy__Config__Core__V3__Node));
    if (bd == NULL || b == NULL || node == NULL)
        return OR_ENOMEM;
    if (d->src->bootstrap != NULL)
        *b = *d->src->bootstrap;
    else
        envoy__config__bootstrap__v3__bootstrap__init(b);
    if (b->node != NULL)
        *node = *b->node;
    else
        envoy__config__core__v3__node__init(node);
    if (node->user_agent_name == NULL || node->user_agent_name[0] == '\0')
        node->user_agent_name = "envoy";
    b->node = node;
    bd->bootstrap = b;
    bd->last_updated = d->last_updated;
    return add_part(d, bd);
}

static int clusters_part(struct dump *d)
{
    const Envoy__Config__Bootstrap__V3__Bootstrap__StaticResources *sr = static_resources(d);
    size_t n = sr != NULL ? sr->n_clusters : 0;
    Envoy__Admin__V3__ClustersConfigDump *cd =
        new_msg(d, &envoy__admin__v3__clusters_config_dump__descriptor);
    if (cd == NULL || (cd->static_clusters = new_array(d, n)) == NULL)
        return OR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!name_ok(d, sr->clusters[i]->name))
            continue;
        Envoy__Admin__V3__ClustersConfigDump__StaticCluster *sc =
            new_msg(d, &envoy__admin__v3__clusters_config_dump__static_cluster__descriptor);
        if (sc == NULL || (sc->cluster = pack_any(&d->a, &sr->clusters[i]->base)) == NULL)
            return OR_ENOMEM;
        sc->last_updated = d->last_updated;
        cd->static_clusters[cd->n_static_clusters++] = sc;
    }
    return add_part(d, cd);
}

static Envoy__Config__Core__V3__HealthStatus coarse_health(enum or_host_health h)
{
    switch (h) {
    case OR_HOST_HEALTH_UNHEALTHY:
    case OR_HOST_HEALTH_TIMEOUT:
    case OR_HOST_HEALTH_DRAINING:
        return ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__UNHEALTHY;
    case OR_HOST_HEALTH_DEGRADED:
        return ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__DEGRADED;
    default:
        return ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__HEALTHY;
    }
}

static Envoy__Config__Endpoint__V3__LbEndpoint *lb_endpoint(struct dump *d, const struct or_host *h)
{
    Envoy__Config__Endpoint__V3__LbEndpoint *lb =
        new_msg(d, &envoy__config__endpoint__v3__lb_endpoint__descriptor);
    Envoy__Config__Endpoint__V3__Endpoint *ep =
        new_msg(d, &envoy__config__endpoint__v3__endpoint__descriptor);
    Google__Protobuf__UInt32Value *w = new_msg(d, &google__protobuf__uint32_value__descriptor);
    if (lb == NULL || ep == NULL || w == NULL)
        return NULL;
    if ((ep->address =
             or_admin__pb_address(&d->a, (const struct sockaddr *)&h->addr, h->addrlen)) == NULL)
        return NULL;
    ep->hostname = h->hostname;
    w->value = h->weight;
    lb->host_identifier_case = ENVOY__CONFIG__ENDPOINT__V3__LB_ENDPOINT__HOST_IDENTIFIER_ENDPOINT;
    lb->endpoint = ep;
    lb->health_status = coarse_health(h->health);
    lb->load_balancing_weight = w;
    return lb;
}

/* ?include_eds: what Envoy's dumpEndpointConfigs rebuilds from the host sets. Our hosts carry no
 * locality or priority, so each cluster has one LocalityLbEndpoints (empty locality, priority 0)
 * holding all its hosts. */
static int endpoints_part(struct dump *d)
{
    struct or_admin_cluster_view *v = NULL;
    ssize_t n = or_admin_dump_cluster_views(d->src, &v);
    if (n < 0)
        return OR_ENOMEM;
    if (n == 0)
        return 0; /* Envoy adds the part only when there are clusters. */
    int rc = OR_ENOMEM;
    Envoy__Admin__V3__EndpointsConfigDump *ed =
        new_msg(d, &envoy__admin__v3__endpoints_config_dump__descriptor);
    if (ed == NULL || (ed->static_endpoint_configs = new_array(d, (size_t)n)) == NULL)
        goto out;
    for (ssize_t i = 0; i < n; i++) {
        if (!name_ok(d, v[i].cluster->name))
            continue;
        Envoy__Config__Endpoint__V3__ClusterLoadAssignment *cla =
            new_msg(d, &envoy__config__endpoint__v3__cluster_load_assignment__descriptor);
        Envoy__Config__Endpoint__V3__LocalityLbEndpoints *lle =
            new_msg(d, &envoy__config__endpoint__v3__locality_lb_endpoints__descriptor);
        Envoy__Admin__V3__EndpointsConfigDump__StaticEndpointConfig *se = new_msg(
            d, &envoy__admin__v3__endpoints_config_dump__static_endpoint_config__descriptor);
        size_t nh = v[i].hosts != NULL ? v[i].hosts->n_hosts : 0;
        if (cla == NULL || lle == NULL || se == NULL ||
            (lle->locality = new_msg(d, &envoy__config__core__v3__locality__descriptor)) == NULL ||
            (lle->lb_endpoints = new_array(d, nh)) == NULL ||
            (cla->endpoints = new_array(d, 1)) == NULL)
            goto out;
        for (size_t j = 0; j < nh; j++)
            if ((lle->lb_endpoints[lle->n_lb_endpoints++] = lb_endpoint(d, v[i].hosts->hosts[j])) ==
                NULL)
                goto out;
        cla->cluster_name = v[i].cluster->name;
        if (nh > 0)
            cla->endpoints[cla->n_endpoints++] = lle;
        if ((se->endpoint_config = pack_any(&d->a, &cla->base)) == NULL)
            goto out;
        ed->static_endpoint_configs[ed->n_static_endpoint_configs++] = se;
    }
    rc = add_part(d, ed);
out:
    free(v);
    return rc;
}

static int listeners_part(struct dump *d)
{
    const Envoy__Config__Bootstrap__V3__Bootstrap__StaticResources *sr = static_resources(d);
    size_t n = sr != NULL ? sr->n_listeners : 0;
    Envoy__Admin__V3__ListenersConfigDump *ld =
        new_msg(d, &envoy__admin__v3__listeners_config_dump__descriptor);
    if (ld == NULL || (ld->static_listeners = new_array(d, n)) == NULL)
        return OR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!name_ok(d, sr->listeners[i]->name))
            continue;
        Envoy__Admin__V3__ListenersConfigDump__StaticListener *sl =
            new_msg(d, &envoy__admin__v3__listeners_config_dump__static_listener__descriptor);
        if (sl == NULL || (sl->listener = pack_any(&d->a, &sr->listeners[i]->base)) == NULL)
            return OR_ENOMEM;
        sl->last_updated = d->last_updated;
        ld->static_listeners[ld->n_static_listeners++] = sl;
    }
    return add_part(d, ld);
}

static void free_unpacked(void *m)
{
    protobuf_c_message_free_unpacked(m, NULL);
}

/* Unpacks `any` as its registered type; the message is freed with the arena. NULL when the type
 * is unknown, the bytes do not parse, or on OOM. */
static ProtobufCMessage *unpack_any(struct or_arena *a, const Google__Protobuf__Any *any)
{
    const ProtobufCMessageDescriptor *t = or_config_type_find(any->type_url);
    if (t == NULL)
        return NULL;
    ProtobufCMessage *m = protobuf_c_message_unpack(t, NULL, any->value.len, any->value.data);
    if (m != NULL && or_arena_on_cleanup(a, free_unpacked, m) != 0) {
        protobuf_c_message_free_unpacked(m, NULL);
        return NULL;
    }
    return m;
}

/* The route and scoped-route parts exist in Envoy once an HTTP connection manager made its route
 * config provider managers; static routes are the inline route_config of each HCM. */
static int routes_parts(struct dump *d)
{
    const Envoy__Config__Bootstrap__V3__Bootstrap__StaticResources *sr = static_resources(d);
    const ProtobufCMessageDescriptor *hcm_desc =
        &envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__descriptor;
    size_t cap = 0;
    bool any_hcm = false;
    for (size_t i = 0; sr != NULL && i < sr->n_listeners; i++)
        for (size_t j = 0; j < sr->listeners[i]->n_filter_chains; j++)
            cap += sr->listeners[i]->filter_chains[j]->n_filters;
    Envoy__Admin__V3__RoutesConfigDump *rd =
        new_msg(d, &envoy__admin__v3__routes_config_dump__descriptor);
    if (rd == NULL || (rd->static_route_configs = new_array(d, cap)) == NULL)
        return OR_ENOMEM;
    for (size_t i = 0; sr != NULL && i < sr->n_listeners; i++) {
        const Envoy__Config__Listener__V3__Listener *l = sr->listeners[i];
        for (size_t j = 0; j < l->n_filter_chains; j++) {
            const Envoy__Config__Listener__V3__FilterChain *fc = l->filter_chains[j];
            for (size_t k = 0; k < fc->n_filters; k++) {
                const Envoy__Config__Listener__V3__Filter *f = fc->filters[k];
                if (f->config_type_case !=
                        ENVOY__CONFIG__LISTENER__V3__FILTER__CONFIG_TYPE_TYPED_CONFIG ||
                    f->typed_config == NULL ||
                    or_config_type_find(f->typed_config->type_url) != hcm_desc)
                    continue;
                any_hcm = true;
                const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager
                    *hcm = (const void *)unpack_any(&d->a, f->typed_config);
                if (hcm == NULL)
                    return OR_ENOMEM; /* the loader accepted it, so it parses */
                if (hcm->route_specifier_case !=
                        ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__ROUTE_SPECIFIER_ROUTE_CONFIG ||
                    hcm->route_config == NULL || !name_ok(d, hcm->route_config->name))
                    continue;
                Envoy__Admin__V3__RoutesConfigDump__StaticRouteConfig *sc = new_msg(
                    d, &envoy__admin__v3__routes_config_dump__static_route_config__descriptor);
                if (sc == NULL ||
                    (sc->route_config = pack_any(&d->a, &hcm->route_config->base)) == NULL)
                    return OR_ENOMEM;
                sc->last_updated = d->last_updated;
                rd->static_route_configs[rd->n_static_route_configs++] = sc;
            }
        }
    }
    if (!any_hcm)
        return 0;
    if (add_part(d, new_msg(d, &envoy__admin__v3__scoped_routes_config_dump__descriptor)) != 0)
        return OR_ENOMEM;
    return add_part(d, rd);
}

static int build_parts(struct dump *d)
{
    d->last_updated = new_msg(d, &google__protobuf__timestamp__descriptor);
    if (d->last_updated == NULL)
        return OR_ENOMEM;
    int64_t ms = d->src->last_updated_ms;
    d->last_updated->seconds = ms / 1000;
    d->last_updated->nanos = (int32_t)(ms % 1000) * 1000000;
    if (d->last_updated->nanos < 0) {
        d->last_updated->seconds -= 1;
        d->last_updated->nanos += 1000000000;
    }
    if (bootstrap_part(d) != 0 || clusters_part(d) != 0)
        return OR_ENOMEM;
    if (d->q->include_eds && endpoints_part(d) != 0)
        return OR_ENOMEM;
    if (listeners_part(d) != 0 || routes_parts(d) != 0)
        return OR_ENOMEM;
    return add_part(d, new_msg(d, &envoy__admin__v3__secrets_config_dump__descriptor));
}

/* ---- field masks (protobuf's FieldMaskUtil, on shallow copies) ---- */

/* A FieldMaskTree node: a field name and the sub-paths under it. A node without children keeps
 * its whole field. */
struct mask_node {
    const char *name;           /* arena, NUL-terminated */
    struct mask_node *children; /* arena: first child */
    struct mask_node *next;     /* arena: next sibling */
};

struct mask {
    struct mask_node root;
    char **paths; /* arena: the paths as given, for error messages */
    size_t n_paths;
};

static struct mask_node *mask_child(const struct mask_node *n, const char *name, size_t len)
{
    for (struct mask_node *c = n->children; c != NULL; c = c->next)
        if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
            return c;
    return NULL;
}

/* FieldMaskTree::AddPath: a path covered by a shorter one adds nothing; a shorter path replaces
 * the longer ones under it. */
static int mask_add_path(struct or_arena *a, struct mask *m, const char *path)
{
    struct mask_node *node = &m->root;
    bool new_branch = false;
    const char *p = path;
    while (*p != '\0') {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!new_branch && node != &m->root && node->children == NULL)
            return 0;
        struct mask_node *c = mask_child(node, p, len);
        if (c == NULL) {
            new_branch = true;
            c = or_arena_calloc(a, sizeof(*c));
            if (c == NULL || (c->name = or_arena_strndup(a, p, len)) == NULL)
                return OR_ENOMEM;
            c->next = node->children;
            node->children = c;
        }
        node = c;
        p += len;
        if (*p == '.')
            p++;
    }
    node->children = NULL;
    return 0;
}

/* FieldMaskUtil::FromString: comma-separated paths, empty ones skipped. */
static int mask_parse(struct or_arena *a, const char *text, struct mask *m)
{
    memset(m, 0, sizeof(*m));
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    if ((m->paths = or_arena_alloc(a, cap * sizeof(*m->paths))) == NULL)
        return OR_ENOMEM;
    for (const char *p = text;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len > 0) {
            char *path = or_arena_strndup(a, p, len);
            if (path == NULL || mask_add_path(a, m, path) != 0)
                return OR_ENOMEM;
            m->paths[m->n_paths++] = path;
        }
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

/* FieldMaskUtil::GetFieldDescriptors: every part names a field, and every part but the last a
 * singular message field. */
static bool path_valid(const ProtobufCMessageDescriptor *d, const char *path)
{
    const char *p = path;
    char part[128];
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (d == NULL || len >= sizeof(part))
            return false;
        memcpy(part, p, len);
        part[len] = '\0';
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(d, part);
        if (f == NULL)
            return false;
        d = f->label != PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_MESSAGE
                ? f->descriptor
                : NULL;
        if (dot == NULL)
            return true;
        p = dot + 1;
    }
}

static bool mask_valid(const struct mask *m, const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < m->n_paths; i++)
        if (!path_valid(d, m->paths[i]))
            return false;
    return true;
}

static bool is_oneof(const ProtobufCFieldDescriptor *f)
{
    return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

/* The singular message at field f of m, or NULL when unset. */
static const ProtobufCMessage *sub_message(const ProtobufCMessage *m,
                                           const ProtobufCFieldDescriptor *f)
{
    const char *base = (const char *)m;
    if (is_oneof(f) && *(const uint32_t *)(base + f->quantifier_offset) != f->id)
        return NULL;
    return *(const ProtobufCMessage *const *)(base + f->offset);
}

/* Reflection's ClearField on a (shallow-copied) message: nothing is freed. */
static void clear_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    char *base = (char *)m;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        *(size_t *)(base + f->quantifier_offset) = 0;
        *(void **)(base + f->offset) = NULL;
        return;
    }
    if (is_oneof(f)) {
        if (*(uint32_t *)(base + f->quantifier_offset) == f->id)
            *(uint32_t *)(base + f->quantifier_offset) = 0;
        return;
    }
    switch (f->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
        *(void **)(base + f->offset) = NULL;
        break;
    case PROTOBUF_C_TYPE_STRING:
        *(const char **)(base + f->offset) = protobuf_c_empty_string;
        break;
    case PROTOBUF_C_TYPE_BYTES:
        memset(base + f->offset, 0, sizeof(ProtobufCBinaryData));
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        memset(base + f->offset, 0, 8);
        break;
    default: /* 32-bit scalars, bool and enum are 4 bytes in protobuf-c */
        memset(base + f->offset, 0, 4);
        break;
    }
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0)
        *(protobuf_c_boolean *)(base + f->quantifier_offset) = 0;
}

/* FieldMaskTree::TrimMessage: a shallow copy of m keeping only the fields under `node`. */
static ProtobufCMessage *trim(struct or_arena *a, const ProtobufCMessage *m,
                              const struct mask_node *node)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    ProtobufCMessage *c = or_arena_alloc(a, d->sizeof_message);
    if (c == NULL)
        return NULL;
    memcpy(c, m, d->sizeof_message);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const struct mask_node *child = mask_child(node, f->name, strlen(f->name));
        if (child == NULL) {
            clear_field(c, f);
            continue;
        }
        if (child->children == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE ||
            f->label == PROTOBUF_C_LABEL_REPEATED)
            continue;
        const ProtobufCMessage *sub = sub_message(m, f);
        if (sub == NULL)
            continue;
        ProtobufCMessage *t = trim(a, sub, child);
        if (t == NULL)
            return NULL;
        *(ProtobufCMessage **)((char *)c + f->offset) = t;
    }
    return c;
}

/* Envoy's trimResourceMessage: paths through the element's (single) Any field trim the message
 * inside the Any, the others trim the element. A bare path to the Any keeps it whole. Returns the
 * trimmed copy, or NULL with *invalid set (the mask does not fit) or clear (OOM). */
static ProtobufCMessage *trim_resource(struct or_arena *a, const ProtobufCMessage *m,
                                       const struct mask *mask, bool *invalid)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    struct mask outer, inner;
    const ProtobufCFieldDescriptor *any_f = NULL;
    bool inner_all = false;
    memset(&outer, 0, sizeof(outer));
    memset(&inner, 0, sizeof(inner));
    *invalid = false;
    outer.paths = or_arena_alloc(a, (mask->n_paths + 1) * sizeof(char *));
    inner.paths = or_arena_alloc(a, (mask->n_paths + 1) * sizeof(char *));
    if (outer.paths == NULL || inner.paths == NULL)
        return NULL;
    for (size_t i = 0; i < mask->n_paths; i++) {
        char *path = mask->paths[i];
        char *dot = strchr(path, '.');
        char first[128];
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        const ProtobufCFieldDescriptor *f = NULL;
        if (len < sizeof(first)) {
            memcpy(first, path, len);
            first[len] = '\0';
            f = protobuf_c_message_descriptor_get_field_by_name(d, first);
        }
        if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
            f->label != PROTOBUF_C_LABEL_REPEATED &&
            f->descriptor == &google__protobuf__any__descriptor && (any_f == NULL || any_f == f)) {
            any_f = f;
            char *head = or_arena_strndup(a, path, len);
            if (head == NULL || mask_add_path(a, &outer, head) != 0)
                return NULL;
            outer.paths[outer.n_paths++] = head;
            if (dot == NULL) {
                inner_all = true;
            } else {
                if (mask_add_path(a, &inner, dot + 1) != 0)
                    return NULL;
                inner.paths[inner.n_paths++] = dot + 1;
            }
        } else {
            if (mask_add_path(a, &outer, path) != 0)
                return NULL;
            outer.paths[outer.n_paths++] = path;
        }
    }
    if (!mask_valid(&outer, d)) {
        *invalid = true;
        return NULL;
    }
    ProtobufCMessage *c = trim(a, m, &outer.root);
    if (c == NULL || any_f == NULL || inner_all)
        return c;
    const Google__Protobuf__Any *any = (const Google__Protobuf__Any *)sub_message(m, any_f);
    if (any == NULL)
        return c;
    ProtobufCMessage *inside = unpack_any(a, any);
    if (inside == NULL)
        return NULL;
    if (!mask_valid(&inner, inside->descriptor)) {
        *invalid = true;
        return NULL;
    }
    ProtobufCMessage *t = trim(a, inside, &inner.root);
    Google__Protobuf__Any *packed = t != NULL ? pack_any(a, t) : NULL;
    if (packed == NULL)
        return NULL;
    *(Google__Protobuf__Any **)((char *)c + any_f->offset) = packed;
    return c;
}

/* ---- the response ---- */

/* protobuf's FieldMask::DebugString(), as Envoy quotes it in errors. */
static void mask_debug_string(const struct mask *m, struct evbuffer *out)
{
    for (size_t i = 0; i < m->n_paths; i++) {
        evbuffer_add(out, "paths: \"", 8);
        for (const char *p = m->paths[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                evbuffer_add(out, "\\", 1);
            evbuffer_add(out, p, 1);
        }
        evbuffer_add(out, "\"\n", 2);
    }
}

static int write_dump(struct dump *d, Google__Protobuf__Any **configs, size_t n,
                      struct evbuffer *out)
{
    Envoy__Admin__V3__ConfigDump *cd = new_msg(d, &envoy__admin__v3__config_dump__descriptor);
    if (cd == NULL)
        return OR_ENOMEM;
    cd->configs = configs;
    cd->n_configs = n;
    return or_admin__pb_write_json(&cd->base, out);
}

/* Without ?resource=: every part, each trimmed by the mask it fits. */
static int dump_all(struct dump *d, const struct mask *mask, struct evbuffer *out)
{
    Google__Protobuf__Any **configs = new_array(d, d->n_parts);
    size_t n = 0;
    if (configs == NULL)
        return 500;
    for (size_t i = 0; i < d->n_parts; i++) {
        const ProtobufCMessage *part = d->parts[i];
        if (mask != NULL) {
            if (!mask_valid(mask, part->descriptor))
                continue; /* parts of other types have other valid masks */
            if ((part = trim(&d->a, part, &mask->root)) == NULL)
                return 500;
        }
        if ((configs[n++] = pack_any(&d->a, part)) == NULL)
            return 500;
    }
    if (n == 0 && mask != NULL) {
        evbuffer_add_printf(out, "FieldMask %s could not be successfully applied to any configs.",
                            d->q->mask);
        return 400;
    }
    return write_dump(d, configs, n, out) == 0 ? 200 : 500;
}

/* ?resource=: the elements of the first part's repeated field of that name. */
static int dump_resource(struct dump *d, const struct mask *mask, struct evbuffer *out)
{
    const char *r = d->q->resource;
    for (size_t i = 0; i < d->n_parts; i++) {
        const ProtobufCMessage *part = d->parts[i];
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(part->descriptor, r);
        if (f == NULL)
            continue;
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
            evbuffer_add_printf(out,
                                "%s is not a repeated field. Use ?mask=%s to get only this field",
                                f->name, f->name);
            return 400;
        }
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
            evbuffer_add_printf(out, "%s is not a repeated message field", f->name);
            return 400;
        }
        size_t n = *(const size_t *)((const char *)part + f->quantifier_offset);
        const ProtobufCMessage *const *elems =
            *(const ProtobufCMessage *const *const *)((const char *)part + f->offset);
        Google__Protobuf__Any **configs = new_array(d, n);
        if (configs == NULL)
            return 500;
        for (size_t j = 0; j < n; j++) {
            const ProtobufCMessage *e = elems[j];
            if (mask != NULL) {
                bool invalid;
                if ((e = trim_resource(&d->a, e, mask, &invalid)) == NULL && invalid) {
                    evbuffer_add(out, "FieldMask ", 10);
                    mask_debug_string(mask, out);
                    evbuffer_add_printf(out, " could not be successfully used.");
                    return 400;
                }
                if (e == NULL)
                    return 500;
            }
            if ((configs[j] = pack_any(&d->a, e)) == NULL)
                return 500;
        }
        return write_dump(d, configs, n, out) == 0 ? 200 : 500;
    }
    evbuffer_add_printf(out, "%s not found in config dump", r);
    return 404;
}

int or_admin_config_dump(const struct or_admin_dump_src *src, const struct or_admin_dump_query *q,
                         struct evbuffer *out, bool *is_json)
{
    static const struct or_admin_dump_query none = {NULL, NULL, NULL, false};
    struct dump d;
    struct mask mask;
    int status = 500;
    memset(&d, 0, sizeof(d));
    or_arena_init(&d.a, 16384);
    d.src = src;
    d.q = q != NULL ? q : &none;
    *is_json = false;
    if (build_parts(&d) != 0)
        goto out;
    if (d.q->mask != NULL && mask_parse(&d.a, d.q->mask, &mask) != 0)
        goto out;
    const struct mask *m = d.q->mask != NULL ? &mask : NULL;
    status = d.q->resource != NULL ? dump_resource(&d, m, out) : dump_all(&d, m, out);
    *is_json = status == 200;
out:
    or_arena_deinit(&d.a);
    return status;
}

/* ---- the endpoints ---- */

ssize_t or_admin_dump_cluster_views(const struct or_admin_dump_src *src,
                                    struct or_admin_cluster_view **out)
{
    size_t n = src->cm != NULL         ? or_cluster_manager_count(src->cm)
               : src->snapshot != NULL ? src->snapshot->n_clusters
                                       : 0;
    *out = NULL;
    if (n == 0)
        return 0;
    struct or_admin_cluster_view *v = calloc(n, sizeof(*v));
    if (v == NULL)
        return OR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (src->cm != NULL) {
            v[i].cluster = or_cluster_manager_at(src->cm, i);
            v[i].hosts = or_cluster_manager_hostset(src->cm, v[i].cluster->name);
        } else {
            v[i].cluster = src->snapshot->clusters[i];
        }
    }
    *out = v;
    return (ssize_t)n;
}

/* "?format=json" picks JSON; anything else (or nothing) is text, as Envoy's formatParam. */
static bool want_json(struct or_admin_request *req)
{
    char v[16];
    ssize_t n = or_admin_query_get(req, "format", v, sizeof(v));
    return n >= 0 && strcmp(v, "json") == 0;
}

static int handle_clusters(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    const struct or_admin_dump_src *src = ctx;
    struct or_admin_cluster_view *v = NULL;
    ssize_t n = or_admin_dump_cluster_views(src, &v);
    if (n < 0)
        return 500;
    int rc;
    if (want_json(req)) {
        req->content_type = OR_ADMIN_CT_JSON;
        rc = or_admin_clusters_json(v, (size_t)n, src->host_stats, src->host_stats_ctx, out);
    } else {
        rc = or_admin_clusters_text(v, (size_t)n, src->host_stats, src->host_stats_ctx, out);
    }
    free(v);
    return rc == 0 ? 200 : 500;
}

static int handle_listeners(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    const struct or_admin_dump_src *src = ctx;
    const struct or_listener_rt *l = src->snapshot != NULL ? src->snapshot->listeners : NULL;
    size_t n = src->snapshot != NULL ? src->snapshot->n_listeners : 0;
    int rc;
    if (want_json(req)) {
        req->content_type = OR_ADMIN_CT_JSON;
        rc = or_admin_listeners_json(l, n, out);
    } else {
        rc = or_admin_listeners_text(l, n, out);
    }
    return rc == 0 ? 200 : 500;
}

/* Query values up to this size; longer ones are a 400. */
#define MAX_PARAM 4096

static int param(struct or_admin_request *req, const char *name, char *buf, const char **out,
                 struct evbuffer *body)
{
    ssize_t n = or_admin_query_get(req, name, buf, MAX_PARAM);
    *out = NULL;
    if (n == OR_ETOOBIG) {
        evbuffer_add_printf(body, "query parameter '%s' is too long (at most %d bytes)", name,
                            MAX_PARAM - 1);
        return 400;
    }
    if (n >= 0)
        *out = buf;
    return 0;
}

static int handle_config_dump(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    const struct or_admin_dump_src *src = ctx;
    struct or_admin_dump_query q;
    const char *re_text;
    char *bufs = malloc(3 * MAX_PARAM);
    struct or_regex *re = NULL;
    int status;
    if (bufs == NULL)
        return 500;
    memset(&q, 0, sizeof(q));
    if ((status = param(req, "resource", bufs, &q.resource, out)) != 0 ||
        (status = param(req, "mask", bufs + MAX_PARAM, &q.mask, out)) != 0 ||
        (status = param(req, "name_regex", bufs + 2 * MAX_PARAM, &re_text, out)) != 0)
        goto out;
    if (re_text != NULL && re_text[0] != '\0') {
        struct or_err_detail err;
        memset(&err, 0, sizeof(err));
        if ((re = or_regex_compile(re_text, strlen(re_text), &err)) == NULL) {
            evbuffer_add_printf(out, "INVALID_ARGUMENT: Error while parsing name_regex from %s: %s",
                                re_text, err.msg);
            status = 400;
            goto out;
        }
        q.name_re = re;
    }
    q.include_eds = or_admin_query_has(req, "include_eds");
    bool json;
    status = or_admin_config_dump(src, &q, out, &json);
    if (json)
        req->content_type = OR_ADMIN_CT_JSON;
out:
    or_regex_free(re);
    free(bufs);
    return status;
}

static const char *const format_choices[] = {"text", "json", NULL};

static const struct or_admin_param format_params[] = {
    {"format", "File format to use", format_choices},
    {NULL, NULL, NULL},
};

static const struct or_admin_param config_dump_params[] = {
    {"resource", "The resource to dump", NULL},
    {"mask",
     "The mask to apply. When both resource and mask are specified, the mask is applied to every "
     "element in the desired repeated field so that only a subset of fields are returned. The "
     "mask is parsed as a ProtobufWkt::FieldMask",
     NULL},
    {"name_regex",
     "Dump only the currently loaded configurations whose names match the specified regex. Can "
     "be used with both resource and mask query parameters.",
     NULL},
    {"include_eds",
     "Dump currently loaded configuration including EDS. See the response definition for more "
     "information",
     NULL},
    {NULL, NULL, NULL},
};

int or_admin_dump_register(struct or_admin *a, const struct or_admin_dump_src *src)
{
    if (a == NULL)
        return 0;
    const struct or_admin_handler hs[] = {
        {"/clusters", "upstream cluster status", 0, handle_clusters, (void *)src, format_params},
        {"/config_dump", "dump current Envoy configs (experimental)", 0, handle_config_dump,
         (void *)src, config_dump_params},
        {"/listeners", "print listener info", 0, handle_listeners, (void *)src, format_params},
    };
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
        int rc = or_admin_add_handler(a, &hs[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}
