/* GET /listeners: the active listeners as Envoy prints them.
 *
 *   text (default)   one line per listener, "<name>::<address>" with Envoy's address spelling
 *                    ("0.0.0.0:15000", "[::]:15001", "/path/to.sock")
 *   ?format=json     envoy.admin.v3.Listeners, pretty-printed like Envoy (1-space indent):
 *                    {"listener_statuses": [{"name", "local_address": {"socket_address": {...}}}]}
 *
 * The address is the configured one (a listener bound to port 0 shows port 0: the snapshot does
 * not know the kernel's choice).
 *
 * This header also declares the protobuf-c helpers shared by the admin dump endpoints
 * (/listeners, /clusters, /config_dump): their output is built as envoy.admin.v3 messages in an
 * arena and printed by the config layer's JSON writer, so field names, order and value forms are
 * protobuf's. Everything here runs on the admin (main) thread. */
#ifndef OR_ADMIN_LISTENERS_H
#define OR_ADMIN_LISTENERS_H

#include <stddef.h>
#include <sys/socket.h>

#include <protobuf-c/protobuf-c.h>

#include "envoy/config/core/v3/address.pb-c.h"

struct evbuffer;
struct or_arena;
struct or_listener_rt;

/* Writes the text form of `n` listeners into `out`. 0 or OR_ENOMEM. */
int or_admin_listeners_text(const struct or_listener_rt *l, size_t n, struct evbuffer *out);

/* Writes envoy.admin.v3.Listeners as pretty JSON (with a final newline) into `out`. 0 or
 * OR_ENOMEM. */
int or_admin_listeners_json(const struct or_listener_rt *l, size_t n, struct evbuffer *out);

/* ---- shared with clusters.c and config_dump.c ---- */

/* A zero-initialised (protobuf_c_message_init) message of type `d` in arena `a`; NULL on OOM. Such
 * messages may point at borrowed strings and arrays: they are only read (packed, printed) and are
 * never passed to or_config_free(). */
ProtobufCMessage *or_admin__pb_new(struct or_arena *a, const ProtobufCMessageDescriptor *d);

/* `sa` as Envoy's admin output spells an address (Network::Utility::addressToProtobufAddress):
 * socket_address {address: "<ip>", port_value} for IPv4/IPv6, pipe {path} for AF_UNIX ("@name"
 * for the abstract namespace). NULL on OOM or an unknown family. */
Envoy__Config__Core__V3__Address *or_admin__pb_address(struct or_arena *a,
                                                       const struct sockaddr *sa, socklen_t len);

/* Appends m's pretty proto3 JSON (or_config_to_json) and a newline, as Envoy's
 * MessageUtil::getJsonStringFromMessage(m, pretty=true) prints it. 0 or OR_ENOMEM. */
int or_admin__pb_write_json(const ProtobufCMessage *m, struct evbuffer *out);

#endif
