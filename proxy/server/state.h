/* Server lifecycle states as Envoy reports them in /ready, /server_info and the server.state gauge.
 */
#ifndef OR_SERVER_STATE_H
#define OR_SERVER_STATE_H

/* The values are envoy.admin.v3.ServerInfo.State's numbers, so the `server.state` gauge reads the
 * same as Envoy's (0 = LIVE). The lifecycle runs PRE_INITIALIZING -> INITIALIZING -> LIVE, and
 * LIVE -> DRAINING when health checks are failed or a drain starts. */
enum or_server_state {
    OR_SERVER_LIVE = 0,             /* initial config applied, serving traffic */
    OR_SERVER_DRAINING = 1,         /* draining listeners (healthcheck/fail, shutdown) */
    OR_SERVER_PRE_INITIALIZING = 2, /* cluster manager not yet initialising */
    OR_SERVER_INITIALIZING = 3,     /* waiting for initial xDS fetches and warming */
};

/* Envoy's enum name: "LIVE", "DRAINING", "PRE_INITIALIZING", "INITIALIZING" ("UNKNOWN" for a value
 * outside the enum). The string is static. */
static inline const char *or_server_state_name(enum or_server_state s)
{
    switch (s) {
    case OR_SERVER_LIVE:
        return "LIVE";
    case OR_SERVER_DRAINING:
        return "DRAINING";
    case OR_SERVER_PRE_INITIALIZING:
        return "PRE_INITIALIZING";
    case OR_SERVER_INITIALIZING:
        return "INITIALIZING";
    }
    return "UNKNOWN";
}

#endif
