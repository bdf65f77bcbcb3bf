/* Generic YAML/JSON <-> protobuf-c reflection with the proto3 JSON mapping rules, over the
 * descriptors of our Envoy API subset (xds/proto).
 *
 * Every message handed out here is laid out as protobuf_c_message_unpack() would: each sub-message,
 * string, bytes value and repeated array is its own malloc() block, so or_config_free() (which is
 * protobuf_c_message_free_unpacked with the default allocator) releases it, and translation code
 * can treat parsed and xDS-unpacked messages alike. */
#ifndef OR_CONFIG_REFLECT_H
#define OR_CONFIG_REFLECT_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "google/protobuf/any.pb-c.h"
#include "proxy/core/err.h"

/* Parses YAML or JSON `text` (not NUL-terminated) into a new message of type `desc`.
 * Field names may be snake_case or lowerCamelCase; enums by name or number; Duration as "1.5s";
 * Timestamp as RFC 3339; wrappers and int64 as plain values (int64 also as strings); bytes as
 * base64; Struct/Value/ListValue from any YAML; Any with "@type" (see or_config_type_find);
 * null leaves a field unset; YAML anchors, aliases, `<<` merges and Envoy's `!ignore` key tag work.
 * Unknown fields, wrong types, bad enum names, out-of-range numbers, two members of one oneof and
 * unsupported @type are errors: `err->path` is the field path
 * ("static_resources.clusters[0].lb_policy") and `err->msg` the reason.
 * Returns 0 with *out owned by the caller, OR_EINVAL (bad config) or OR_ENOMEM; *out is NULL on
 * error. */
int or_config_parse(const char *text, size_t len, const ProtobufCMessageDescriptor *desc,
                    ProtobufCMessage **out, struct or_err_detail *err);

/* Unpacks `any` into a new message of its registered type. `expect` (NULL = any registered type)
 * makes another type an error. Unknown wire fields (fields outside our subset) and undefined enum
 * numbers anywhere in the unpacked message are errors too, reported under `path` (may be NULL or
 * "" for none). Returns 0 with *out owned by the caller, or OR_EINVAL / OR_ENOMEM. */
int or_config_unpack_any(const Google__Protobuf__Any *any, const ProtobufCMessageDescriptor *expect,
                         ProtobufCMessage **out, struct or_err_detail *err, const char *path);

/* Checks a message that came off the wire (e.g. an xDS resource unpacked by protobuf-c): any
 * unknown field or undefined enum value, at any depth, is OR_EINVAL naming `path` + the field path,
 * the message type and the field number. Nested Any values are not opened. */
int or_config_check_unknown(const ProtobufCMessage *m, struct or_err_detail *err, const char *path);

/* protobuf MergeFrom of `src` into `dst` (same type): set scalars replace, sub-messages merge
 * recursively, repeated fields append, a set oneof member replaces the other. Returns 0,
 * OR_EINVAL (types differ) or OR_ENOMEM (dst is then partly merged but still valid to free). */
int or_config_merge(ProtobufCMessage *dst, const ProtobufCMessage *src);

/* Deep copy; NULL on OOM. */
ProtobufCMessage *or_config_dup(const ProtobufCMessage *m);

/* Frees a message from this module or from protobuf_c_message_unpack(NULL allocator). NULL ok. */
void or_config_free(ProtobufCMessage *m);

/* proto3 JSON of `m` with snake_case field names (as Envoy's /config_dump): unset fields omitted,
 * enums by name, int64 as strings, Duration "1.500s", Timestamp RFC 3339, wrappers as plain values,
 * Any expanded with "@type" first. `pretty` indents by one space per level like Envoy's output.
 * Returns 0 with *out malloc'd and NUL-terminated (*len without the NUL; len may be NULL) or
 * OR_ENOMEM. */
int or_config_to_json(const ProtobufCMessage *m, bool pretty, char **out, size_t *len);

#endif
