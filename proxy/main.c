/* outrider: an Envoy-compatible sidecar proxy. Same command line, bootstrap and admin as Envoy. */
#include "proxy/core/err.h"
#include "proxy/core/log.h"
#include "proxy/event/evmem.h"
#include "proxy/server/options.h"
#include "proxy/server/server.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct or_options opts;
    char err[512];
    /* Buffers come and go at the top of each worker's heap every request; without these glibc hands
     * the pages back (madvise) and faults them in again on the next request. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 1 << 20);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    or_evmem_install();
    or_options_init(&opts);
    int r = or_options_parse(argc, argv, &opts, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "%s\n", err);
        or_options_print_usage(stderr, argv[0]);
        return 1;
    }
    if (r > 0) {
        or_options_print_exit(r, argv[0]);
        return 0;
    }
    or_log_set_level(opts.log_level);
    if (opts.component_log_level[0] != '\0' &&
        or_log_apply_component_levels(opts.component_log_level) != 0) {
        fprintf(stderr, "error: invalid --component-log-level '%s'\n", opts.component_log_level);
        return 1;
    }
    or_log_set_format(opts.log_format);
    if (opts.log_path[0] != '\0' && or_log_set_path(opts.log_path) != 0) {
        fprintf(stderr, "cannot open log path '%s'\n", opts.log_path);
        return 1;
    }
    return or_server_main(&opts);
}
