/* The type registry: every message type that may appear inside a google.protobuf.Any in our
 * subset (filter configs, xDS resources, well-known types), keyed by full name. */
#ifndef OR_CONFIG_TYPES_H
#define OR_CONFIG_TYPES_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/* Looks a type up by type URL ("type.googleapis.com/envoy.config.cluster.v3.Cluster": the part
 * after the last '/') or by bare full name. NULL when the type is not in our subset. */
const ProtobufCMessageDescriptor *or_config_type_find(const char *type_url_or_full_name);

/* The registered types, sorted by full name (for tests and diagnostics). */
size_t or_config_type_count(void);
const ProtobufCMessageDescriptor *or_config_type_at(size_t i);

#endif
