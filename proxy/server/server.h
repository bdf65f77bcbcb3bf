/* The server: loads the bootstrap, builds the configuration snapshot, runs the admin endpoint, the
 * cluster manager and DNS on the main thread, and the workers that serve traffic. */
#ifndef OR_SERVER_SERVER_H
#define OR_SERVER_SERVER_H

#include "proxy/server/options.h"

/* Runs the whole process for parsed options; returns the exit code. */
int or_server_main(const struct or_options *opts);

#endif
