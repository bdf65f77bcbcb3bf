/* Static, sorted table of the message types an Any may carry. Add a row here when a new filter
 * config or resource type joins xds/proto (keep the table sorted: a unit test checks it). */
#include "proxy/config/types.h"

#include <string.h>

#include "envoy/admin/v3/clusters.pb-c.h"
#include "envoy/admin/v3/config_dump.pb-c.h"
#include "envoy/admin/v3/config_dump_shared.pb-c.h"
#include "envoy/admin/v3/listeners.pb-c.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb-c.h"
#include "envoy/config/cluster/v3/cluster.pb-c.h"
#include "envoy/config/endpoint/v3/endpoint.pb-c.h"
#include "envoy/config/listener/v3/listener.pb-c.h"
#include "envoy/config/route/v3/route.pb-c.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb-c.h"
#include "envoy/extensions/access_loggers/stream/v3/stream.pb-c.h"
#include "envoy/extensions/filters/http/router/v3/router.pb-c.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb-c.h"
#include "google/protobuf/duration.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"

/* Sorted by descriptor->name (strcmp order). */
static const ProtobufCMessageDescriptor *const types[] = {
    /* Admin output (/config_dump, /clusters, /listeners): the dumps travel as Any values, and
     * ?resource= packs single elements (StaticCluster, ...) into Any. */
    &envoy__admin__v3__bootstrap_config_dump__descriptor,
    &envoy__admin__v3__clusters__descriptor,
    &envoy__admin__v3__clusters_config_dump__descriptor,
    &envoy__admin__v3__clusters_config_dump__dynamic_cluster__descriptor,
    &envoy__admin__v3__clusters_config_dump__static_cluster__descriptor,
    &envoy__admin__v3__config_dump__descriptor,
    &envoy__admin__v3__endpoints_config_dump__descriptor,
    &envoy__admin__v3__endpoints_config_dump__dynamic_endpoint_config__descriptor,
    &envoy__admin__v3__endpoints_config_dump__static_endpoint_config__descriptor,
    &envoy__admin__v3__listeners__descriptor,
    &envoy__admin__v3__listeners_config_dump__descriptor,
    &envoy__admin__v3__listeners_config_dump__dynamic_listener__descriptor,
    &envoy__admin__v3__listeners_config_dump__static_listener__descriptor,
    &envoy__admin__v3__routes_config_dump__descriptor,
    &envoy__admin__v3__routes_config_dump__dynamic_route_config__descriptor,
    &envoy__admin__v3__routes_config_dump__static_route_config__descriptor,
    &envoy__admin__v3__scoped_routes_config_dump__descriptor,
    &envoy__admin__v3__scoped_routes_config_dump__dynamic_scoped_route_configs__descriptor,
    &envoy__admin__v3__scoped_routes_config_dump__inline_scoped_route_configs__descriptor,
    &envoy__admin__v3__secrets_config_dump__descriptor,
    &envoy__admin__v3__secrets_config_dump__dynamic_secret__descriptor,
    &envoy__admin__v3__secrets_config_dump__static_secret__descriptor,
    &envoy__config__bootstrap__v3__bootstrap__descriptor,
    &envoy__config__cluster__v3__cluster__descriptor,
    &envoy__config__endpoint__v3__cluster_load_assignment__descriptor,
    &envoy__config__listener__v3__listener__descriptor,
    &envoy__config__route__v3__route_configuration__descriptor,
    &envoy__extensions__access_loggers__file__v3__file_access_log__descriptor,
    &envoy__extensions__access_loggers__stream__v3__stderr_access_log__descriptor,
    &envoy__extensions__access_loggers__stream__v3__stdout_access_log__descriptor,
    &envoy__extensions__filters__http__router__v3__router__descriptor,
    &envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__descriptor,
    &google__protobuf__bool_value__descriptor,
    &google__protobuf__bytes_value__descriptor,
    &google__protobuf__double_value__descriptor,
    &google__protobuf__duration__descriptor,
    &google__protobuf__empty__descriptor,
    &google__protobuf__float_value__descriptor,
    &google__protobuf__int32_value__descriptor,
    &google__protobuf__int64_value__descriptor,
    &google__protobuf__list_value__descriptor,
    &google__protobuf__string_value__descriptor,
    &google__protobuf__struct__descriptor,
    &google__protobuf__timestamp__descriptor,
    &google__protobuf__uint32_value__descriptor,
    &google__protobuf__uint64_value__descriptor,
    &google__protobuf__value__descriptor,
};

const ProtobufCMessageDescriptor *or_config_type_find(const char *type_url_or_full_name)
{
    if (type_url_or_full_name == NULL)
        return NULL;
    const char *name = strrchr(type_url_or_full_name, '/');
    name = name ? name + 1 : type_url_or_full_name;
    size_t lo = 0, hi = sizeof(types) / sizeof(types[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, types[mid]->name);
        if (c == 0)
            return types[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t or_config_type_count(void)
{
    return sizeof(types) / sizeof(types[0]);
}

const ProtobufCMessageDescriptor *or_config_type_at(size_t i)
{
    return i < or_config_type_count() ? types[i] : NULL;
}
