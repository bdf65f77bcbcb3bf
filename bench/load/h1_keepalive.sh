#!/usr/bin/env bash
# First HTTP/1.1 keep-alive comparison: Outrider, nginx and HAProxy as reverse proxies (one worker each)
# in front of the same nginx origin, driven by wrk with 50 connections and small responses.
# Prints requests/s, latency and proxy CPU-microseconds per request (utime+stime from /proc over the
# run). The proxy is pinned to CPU 0, wrk and the origin to CPU 1 when two cores exist.
# Usage: bench/load/h1_keepalive.sh [seconds]   (all traffic on 127.0.0.1; every process ended by PID)
set -euo pipefail
DUR=${1:-10}
here=$(cd "$(dirname "$0")/../.." && pwd)
OUTRIDER=${OUTRIDER:-$here/build/outrider}
work=$(mktemp -d /tmp/or-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

ncpu=$(nproc)
PROXY_CPU=0; LOAD_CPU=$((ncpu > 1 ? 1 : 0))
ORIGIN=18181; PORT=18182; ADMIN=18183

port_free_wait() { # wait until something listens on $1 (readiness), bounded
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "nothing listening on $1" >&2; return 1
}

cat > "$work/origin.conf" <<NG
worker_processes 1; daemon off; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$ORIGIN; keepalive_requests 1000000000;
  location / { return 200 "hello world\n"; } } }
NG
taskset -c $LOAD_CPU nginx -c "$work/origin.conf" & pids+=($!)
port_free_wait $ORIGIN

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
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: origin}}]}]
          http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
  clusters:
  - name: origin
    type: STATIC
    load_assignment: {cluster_name: origin, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $ORIGIN}}}}]}]}
YA
cat > "$work/nginx.conf" <<NG
worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx.err;
events { worker_connections 4096; }
http { access_log off; upstream o { server 127.0.0.1:$ORIGIN; keepalive 64; keepalive_requests 1000000000; }
  server { listen 127.0.0.1:$PORT; keepalive_requests 1000000000;
    location / { proxy_pass http://o; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
NG
cat > "$work/haproxy.cfg" <<HA
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend f
  bind 127.0.0.1:$PORT
  default_backend b
backend b
  server o 127.0.0.1:$ORIGIN
HA

# utime+stime of a process and its children (nginx serves from a forked worker).
cpu_ticks() {
  local t=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    t=$((t + $(awk '{print $14+$15}' /proc/"$p"/stat)))
  done
  echo $t
}
peak_rss() { # largest VmHWM of the process and its children, KiB
  local m=0 p v
  for p in "$1" $(pgrep -P "$1" || true); do
    v=$(awk '/VmHWM/ {print $2}' /proc/"$p"/status); [ "$v" -gt "$m" ] && m=$v
  done
  echo $m
}
run_one() { # name, command...
  local name=$1; shift
  taskset -c $PROXY_CPU "$@" > "$work/$name.log" 2>&1 & local pid=$!; pids+=($pid)
  port_free_wait $PORT
  taskset -c $LOAD_CPU wrk -t1 -c50 -d2s "http://127.0.0.1:$PORT/" > /dev/null  # warm-up
  local t0; t0=$(cpu_ticks $pid)
  local out; out=$(taskset -c $LOAD_CPU wrk -t1 -c50 -d"${DUR}s" --latency "http://127.0.0.1:$PORT/")
  local t1; t1=$(cpu_ticks $pid)
  local rps; rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local reqs; reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  local p50; p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  local p99; p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local hz; hz=$(getconf CLK_TCK)
  local us; us=$(awk -v a="$t0" -v b="$t1" -v n="$reqs" -v hz="$hz" 'BEGIN {printf "%.2f", (b-a)*1e6/hz/n}')
  local rss; rss=$(peak_rss $pid)
  printf "%-9s %10s req/s  p50 %-8s p99 %-8s  %6s CPU-us/req  peak RSS %s KiB\n" "$name" "$rps" "$p50" "$p99" "$us" "$rss"
  kill $pid; wait $pid 2>/dev/null || true
}

echo "HTTP/1.1 keep-alive, 50 connections, 12-byte responses, ${DUR}s, one proxy worker (cpu $PROXY_CPU), wrk on cpu $LOAD_CPU"
run_one outrider "$OUTRIDER" -c "$work/outrider.yaml" --concurrency 1 -l warning
run_one nginx nginx -c "$work/nginx.conf"
run_one haproxy haproxy -f "$work/haproxy.cfg"
