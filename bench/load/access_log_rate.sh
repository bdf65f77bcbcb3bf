#!/usr/bin/env bash
# Access log throughput end to end: wrk drives HTTP/1.1 keep-alive through Outrider (one worker)
# with a file access log in Envoy's default format, then the proxy is stopped (SIGTERM flushes) and
# the log's lines are compared with the requests wrk completed. Shows the log keeps up with the
# request rate (no line lost) and what logging costs in proxy CPU-µs per request.
# Usage: bench/load/access_log_rate.sh [seconds]. Loopback only; every process ended by PID.
set -euo pipefail
DUR=${1:-5}
here=$(cd "$(dirname "$0")/../.." && pwd)
OUTRIDER=${OUTRIDER:-$here/build/outrider}
work=$(mktemp -d /tmp/or-alog.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.02; done; return 1; }
ORIGIN=$(port); PORT=$(port); ADMIN=$(port)
cat > "$work/origin.conf" <<NG
worker_processes 1; daemon off; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$ORIGIN; keepalive_requests 1000000000;
  location / { return 200 "hello\n"; } } }
NG
taskset -c 1 nginx -c "$work/origin.conf" & pids+=($!)
wait_port "$ORIGIN"
cat > "$work/outrider.yaml" <<YA
admin: {address: {socket_address: {address: 127.0.0.1, port_value: $ADMIN}}}
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: $PORT}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: $work/access.log
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: origin}}]}]
  clusters:
  - name: origin
    load_assignment: {cluster_name: origin, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $ORIGIN}}}}]}]}
YA
taskset -c 0 "$OUTRIDER" -c "$work/outrider.yaml" --concurrency 1 -l warning > "$work/outrider.out" 2>&1 &
opid=$!; pids+=($opid)
wait_port "$PORT"
t0=$(awk '{print $14+$15}' /proc/$opid/stat)
out=$(taskset -c 1 wrk -t1 -c50 -d"${DUR}s" "http://127.0.0.1:$PORT/")
t1=$(awk '{print $14+$15}' /proc/$opid/stat)
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
kill -TERM $opid; wait $opid || true
lines=$(wc -l < "$work/access.log")
us=$(awk -v a="$t0" -v b="$t1" -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b-a)*1e6/hz/n}')
echo "access log: $reqs requests at $rps req/s, $lines log lines, proxy $us CPU-us/request"
[ "$lines" -ge "$reqs" ] || { echo "lines lost"; exit 1; }
