/* GET /listeners, and the protobuf-c helpers of the admin dump endpoints. */
#include "proxy/admin/listeners.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "envoy/admin/v3/listeners.pb-c.h"
#include "proxy/config/reflect.h"
#include "proxy/config/snapshot.h"
#include "proxy/core/arena.h"
#include "proxy/core/err.h"
#include "proxy/upstream/host.h"

ProtobufCMessage *or_admin__pb_new(struct or_arena *a, const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = or_arena_alloc(a, d->sizeof_message);
    if (m != NULL)
        protobuf_c_message_init(d, m);
    return m;
}

Envoy__Config__Core__V3__Address *or_admin__pb_address(struct or_arena *a,
                                                       const struct sockaddr *sa, socklen_t len)
{
    Envoy__Config__Core__V3__Address *addr = (Envoy__Config__Core__V3__Address *)or_admin__pb_new(
        a, &envoy__config__core__v3__address__descriptor);
    if (addr == NULL)
        return NULL;
    char buf[OR_HOST_ADDR_STR_MAX];
    if (sa->sa_family == AF_UNIX) {
        Envoy__Config__Core__V3__Pipe *p = (Envoy__Config__Core__V3__Pipe *)or_admin__pb_new(
            a, &envoy__config__core__v3__pipe__descriptor);
        if (p == NULL || or_sockaddr_format(sa, len, buf, sizeof(buf)) < 0)
            return NULL;
        if ((p->path = or_arena_strndup(a, buf, strlen(buf))) == NULL)
            return NULL;
        addr->address_case = ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_PIPE;
        addr->pipe = p;
        return addr;
    }
    uint16_t port;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf)) == NULL)
            return NULL;
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf)) == NULL)
            return NULL;
        port = ntohs(in6->sin6_port);
    } else {
        return NULL;
    }
    Envoy__Config__Core__V3__SocketAddress *s =
        (Envoy__Config__Core__V3__SocketAddress *)or_admin__pb_new(
            a, &envoy__config__core__v3__socket_address__descriptor);
    if (s == NULL || (s->address = or_arena_strndup(a, buf, strlen(buf))) == NULL)
        return NULL;
    s->port_specifier_case = ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE;
    s->port_value = port;
    addr->address_case = ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_SOCKET_ADDRESS;
    addr->socket_address = s;
    return addr;
}

int or_admin__pb_write_json(const ProtobufCMessage *m, struct evbuffer *out)
{
    char *json = NULL;
    size_t len = 0;
    if (or_config_to_json(m, true, &json, &len) != 0)
        return OR_ENOMEM;
    int rc = evbuffer_add(out, json, len) == 0 && evbuffer_add(out, "\n", 1) == 0 ? 0 : OR_ENOMEM;
    free(json);
    return rc;
}

int or_admin_listeners_text(const struct or_listener_rt *l, size_t n, struct evbuffer *out)
{
    for (size_t i = 0; i < n; i++)
        if (evbuffer_add_printf(out, "%s::%s\n", l[i].name, l[i].addr_str) < 0)
            return OR_ENOMEM;
    return 0;
}

int or_admin_listeners_json(const struct or_listener_rt *l, size_t n, struct evbuffer *out)
{
    struct or_arena a;
    int rc = OR_ENOMEM;
    or_arena_init(&a, 0);
    Envoy__Admin__V3__Listeners *ls = (Envoy__Admin__V3__Listeners *)or_admin__pb_new(
        &a, &envoy__admin__v3__listeners__descriptor);
    if (ls == NULL)
        goto out;
    ls->listener_statuses = or_arena_alloc(&a, (n ? n : 1) * sizeof(*ls->listener_statuses));
    if (ls->listener_statuses == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        Envoy__Admin__V3__ListenerStatus *st = (Envoy__Admin__V3__ListenerStatus *)or_admin__pb_new(
            &a, &envoy__admin__v3__listener_status__descriptor);
        if (st == NULL)
            goto out;
        st->name = l[i].name;
        st->local_address =
            or_admin__pb_address(&a, (const struct sockaddr *)&l[i].addr, l[i].addrlen);
        if (st->local_address == NULL)
            goto out;
        ls->listener_statuses[ls->n_listener_statuses++] = st;
    }
    rc = or_admin__pb_write_json(&ls->base, out);
out:
    or_arena_deinit(&a);
    return rc;
}
