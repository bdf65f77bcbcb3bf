/* The HTTP connection manager on an HTTP/1.1 downstream connection: llhttp codec in strict mode,
 * one stream at a time (pipelined requests wait in the input buffer and are answered in order),
 * keep-alive, Envoy's request header mutations and local replies. */
#ifndef OR_HTTP_HCM_H1_H
#define OR_HTTP_HCM_H1_H

#include <stdint.h>
#include <sys/socket.h>

#include "proxy/event/worker.h"

struct or_hcm_config;
struct or_wctx;

/* Takes ownership of the accepted fd and serves it with cfg (borrowed from a snapshot the wctx
 * keeps alive for as long as the connection lives). */
void or_hcm_h1_accept(struct or_worker *w, struct or_wctx *wctx, const struct or_hcm_config *cfg,
                      uint32_t listener, int fd, const struct sockaddr *peer, socklen_t peerlen);

/* Drain: closes the idle connections of listeners marked draining in wctx->draining; busy ones
 * close after their current response (Connection: close). Worker thread only. */
void or_hcm_h1_drain(struct or_wctx *wctx);

/* Closes every downstream connection of the worker (shutdown). Worker thread only. */
void or_hcm_h1_close_all(struct or_wctx *wctx);

#endif
