/* The proxy's state on one worker: the configuration snapshot it serves, its view of every cluster
 * (host sets, load balancers, connection pools) and its listening sockets. Touched only by its own
 * thread, except at start-up and shutdown when no loop runs. */
#ifndef OR_SERVER_WCTX_H
#define OR_SERVER_WCTX_H

#include <stdint.h>

#include "proxy/core/list.h"
#include "proxy/event/worker.h"
#include "proxy/net/listener.h"
#include "proxy/upstream/wcluster.h"

struct or_snapshot;

struct or_wctx {
    struct or_worker *w;          /* borrowed */
    struct or_snapshot *snap;     /* borrowed: the server keeps it alive while workers run */
    struct or_wcluster *clusters; /* owned, one per snapshot cluster */
    uint32_t n_clusters;
    struct or_listen_socket *socks; /* owned, one per snapshot listener */
    uint32_t n_socks;
    struct or_list dconns; /* live downstream connections (for shutdown) */
};

#endif
