#!/usr/bin/env python3
"""Load benchmark: Outrider beside nginx and HAProxy as plain reverse proxies.

One command (`make bench`, or `QUICK=1 make bench`) runs every scenario against every proxy, each
proxy with ONE worker pinned to the first CPU, in front of the same nginx origin (`return 200` and
static files); wrk / h2load / curl, the origin and this script run on the second CPU. It prints one
table -- scenario x proxy: requests/s, p50/p99 latency, proxy CPU-us per request (utime+stime of
the proxy and its children from /proc over the measured run), peak RSS (VmHWM), each as a ratio
to the best peer (nginx, HAProxy) of the same run -- and writes build/bench/results.{json,tsv,md}.

Every process it starts is tracked by PID and ended by PID on exit (also on SIGINT/SIGTERM/SIGHUP
and on the global time bound); children also get PR_SET_PDEATHSIG so they die with the harness.
All traffic is on 127.0.0.1. Nothing outside a temporary directory and build/bench/ is written.

Environment:
  QUICK=1              short version (< 2 minutes): 2 s runs, 1 s warm-up, 1 cold start each
  OUTRIDER=path        the binary (default build/outrider)
  BENCH_OUT=dir        where results go (default build/bench)
  BENCH_DURATION=s     measured seconds per load run (default 10, QUICK 2)
  BENCH_WARMUP=s       warm-up seconds before each load run (default 2, QUICK 1)
  BENCH_ONLY=a,b       scenario ids to run (see SCENARIOS), default all
  BENCH_PROXIES=a,b    proxies to run (outrider,nginx,haproxy), default all
  BENCH_IDLE_CONNS=n   idle keep-alive connections (default 10000)
  OR_RELAY=path        the floor relay (default or_relay beside OUTRIDER; the row is skipped if absent)
  OR_BENCH_OUTRIDER_FEATURES=h1[,h2c][,tls]
                       protocols Outrider serves; scenarios needing others print n/a for it. Add h2c
                       and tls here when HTTP/2 and TLS land: the configs for them are generated.
"""

import ctypes
import datetime
import json
import os
import platform
import random
import resource
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUICK = os.environ.get("QUICK", "0") not in ("", "0")
DUR = int(os.environ.get("BENCH_DURATION", "2" if QUICK else "10"))
WARM = int(os.environ.get("BENCH_WARMUP", "1" if QUICK else "2"))
IDLE_N = int(os.environ.get("BENCH_IDLE_CONNS", "10000"))
BODY_BYTES = (256 << 20) if QUICK else (1 << 30)
COLD_RUNS = 1 if QUICK else 3
STREAM_RUNS = 1 if QUICK else 2
COLD_CLUSTERS = 1000
TIME_BOUND = 240 if QUICK else 900  # whole harness, seconds
OUTRIDER = os.environ.get("OUTRIDER", os.path.join(ROOT, "build", "outrider"))
OUT_DIR = os.environ.get("BENCH_OUT", os.path.join(ROOT, "build", "bench"))
OR_FEATURES = set(os.environ.get("OR_BENCH_OUTRIDER_FEATURES", "h1").split(","))
PEERS = ("nginx", "haproxy")
PROXIES = ("outrider",) + PEERS
# "floor": bench/load/relay.c, a byte relay doing only the 4 socket calls per request any proxy
# must do; shown beside the proxies where a target may sit below what user-space work can reach.
RELAY = os.environ.get("OR_RELAY", os.path.join(os.path.dirname(OUTRIDER), "or_relay"))
ROWS = ("direct", "floor") + PROXIES
CLK_TCK = os.sysconf("SC_CLK_TCK")

# id, label, protocol the proxy must serve, runner kind, parameters.
SCENARIOS = [
    ("h1_ka_100", "HTTP/1.1 keep-alive, 50 conns, 100 B", "h1", "wrk",
     dict(c=50, path="/100", floor=True)),
    ("h1_ka_1k", "HTTP/1.1 keep-alive, 50 conns, 1 KiB", "h1", "wrk",
     dict(c=50, path="/1k", floor=True)),
    ("h1_ka_64k", "HTTP/1.1 keep-alive, 50 conns, 64 KiB", "h1", "wrk",
     dict(c=50, path="/64k", floor=True)),
    ("h1_1conn", "HTTP/1.1, 1 connection, 100 B (latency)", "h1", "wrk",
     dict(c=1, path="/100", direct=True, floor=True)),
    ("h1_newconn", "HTTP/1.1, new connection per request, 50 conns, 100 B", "h1", "wrk",
     dict(c=50, path="/100", close=True)),
    ("h2c_10x10", "h2c, 10 clients x 10 streams, 100 B", "h2c", "h2load",
     dict(c=10, m=10, path="/100")),
    ("tls_h1_ka", "TLS HTTP/1.1 keep-alive, 50 conns, 100 B", "tls", "wrk",
     dict(c=50, path="/100", tls=True)),
    ("h2_tls_10x10", "h2 over TLS, 10 clients x 10 streams, 100 B", "tls", "h2load",
     dict(c=10, m=10, path="/100", tls=True)),
    ("idle_10k", "idle HTTP/1.1 keep-alive connections", "h1", "idle", dict(path="/100")),
    ("body_1g", "%s streamed response body (curl)" % ("256 MiB" if QUICK else "1 GiB"), "h1",
     "stream", dict(path="/1g")),
    ("cold_1000", "cold start, 1,000-cluster static config", "h1", "cold", {}),
]

# metric key -> (column label, True if higher is better)
METRICS = {
    "rps": ("req/s", True),
    "p50_us": ("p50", False),
    "p99_us": ("p99", False),
    "cpu_us_per_req": ("CPU-us/req", False),
    "rss_peak_kib": ("peak RSS", False),
    "added_p50_us": ("p50 added over direct", False),
    "kib_per_conn": ("KiB/idle conn", False),
    "sys_us_per_req": ("kernel CPU-us/req", False),
    "mb_per_s": ("MB/s", True),
    "start_ms": ("start ms", False),
    "first_200_ms": ("first proxied 200 ms", False),
    "rss_idle_kib": ("idle RSS", False),
}


# ---------------------------------------------------------------- processes


class Bail(Exception):
    pass


def _bail(signum, frame):
    if signum == signal.SIGALRM:
        raise Bail("the time bound (%d s)" % TIME_BOUND)
    raise Bail("signal %d" % signum)


_libc = ctypes.CDLL(None, use_errno=True)


def _child_setup():
    # PR_SET_PDEATHSIG(SIGKILL): a child never outlives a harness killed without clean-up.
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def proc_start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


def descendants(pid):
    out = []
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for t in tasks:
            try:
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            out.extend(kids)
            stack.extend(kids)
    return out


class Procs:
    """Every process the harness starts; ended by PID (root first, then its recorded children)."""

    def __init__(self):
        self.live = []

    def start(self, cmd, cpu, log_path):
        log = open(log_path, "ab")
        p = subprocess.Popen(["taskset", "-c", str(cpu)] + cmd, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT, preexec_fn=_child_setup)
        log.close()
        self.live.append(p)
        return p

    def stop(self, p):
        kids = [(k, proc_start_time(k)) for k in descendants(p.pid)]
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        for k, st in kids:
            # Only a child that still is the same process (same start time) is killed.
            if st is not None and proc_start_time(k) == st:
                try:
                    os.kill(k, signal.SIGKILL)
                except OSError:
                    pass
        if p in self.live:
            self.live.remove(p)

    def stop_all(self):
        for p in list(reversed(self.live)):
            try:
                self.stop(p)
            except Exception:  # clean-up must go on
                pass


def proc_tree(pid):
    return [pid] + descendants(pid)


def cpu_ticks(pid, which=(11, 12)):
    """utime+stime of pid's tree in clock ticks (which=(12,) for stime alone)."""
    t = 0
    for p in proc_tree(pid):
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            t += sum(int(fields[i]) for i in which)  # utime, stime (fields 14 and 15)
        except (OSError, IndexError, ValueError):
            pass
    return t


def children_cpu_s():
    """User+system seconds of the harness's finished children (wrk, h2load, curl)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def mem_kib(pid, field):
    """Sum of a /proc/<pid>/status field (VmHWM, VmRSS) over the process and its children."""
    total = 0
    for p in proc_tree(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


# ---------------------------------------------------------------- sockets


_ports_taken = set()


def free_port():
    """A free port below the ephemeral range, so that no client socket (wrk's, a proxy's upstream
    connections, other programs on the machine) can take it before the proxy binds it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph_lo = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        eph_lo = 32768
    hi = max(eph_lo - 1, 20001)
    for _ in range(1000):
        port = random.randint(20000, hi)
        if port in _ports_taken:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        _ports_taken.add(port)
        return port
    raise RuntimeError("no free port in 20000-%d" % hi)


def http_get(port, path, timeout=2.0):
    """One GET on a new connection (Connection: close); returns (status, body bytes) or None."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError:
        return None
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n" % path).encode())
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except OSError:
        return None
    finally:
        s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    try:
        return int(head.split(b" ", 2)[1]), len(body)
    except (IndexError, ValueError):
        return None


def wait_200(port, path, deadline, proc=None, interval=0.001):
    """Polls GET until 200 (every `interval` s); returns seconds waited, raises on timeout."""
    t0 = time.monotonic()
    while time.monotonic() < deadline:
        r = http_get(port, path, timeout=1.0)
        if r is not None and r[0] == 200:
            return time.monotonic() - t0
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before serving %s" % (proc.returncode, path))
        time.sleep(interval)
    raise RuntimeError("no 200 from 127.0.0.1:%d%s in time" % (port, path))


# ---------------------------------------------------------------- configuration


def body_text(n):
    return "x" * (n - 1) + "\n"


def nofile():
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def nginx_common(d, name, conns):
    # worker_connections is sized per scenario: nginx allocates (and touches) every slot at start.
    t = os.path.join(d, "ngx-" + name)
    return (
        "worker_processes 1; daemon off; pid {d}/{n}.pid; error_log {d}/{n}.err warn;\n"
        "worker_rlimit_nofile {nf};\n"
        "events {{ worker_connections {c}; }}\n"
        "http {{ access_log off; default_type application/octet-stream;\n"
        "  keepalive_requests 1000000000; keepalive_timeout 600s;\n"
        "  client_body_temp_path {t}/b; proxy_temp_path {t}/p; fastcgi_temp_path {t}/f;\n"
        "  uwsgi_temp_path {t}/u; scgi_temp_path {t}/s;\n"
    ).format(d=d, n=name, t=t, c=conns, nf=nofile())


def origin_conf(d, port):
    return nginx_common(d, "origin", 4096) + (
        "  sendfile on; open_file_cache max=16 inactive=600s;\n"
        "  server {{ listen 127.0.0.1:{p} backlog=4096;\n"
        "    location = /100 {{ return 200 \"{b100}\"; }}\n"
        "    location = /1k {{ return 200 \"{b1k}\"; }}\n"
        "    location = /64k {{ alias {d}/64k.bin; }}\n"
        "    location = /1g {{ alias {d}/1g.bin; }}\n"
        "    location / {{ return 200 \"{b100}\"; }}\n"
        "  }}\n}}\n"
    ).format(p=port, d=d, b100=body_text(100), b1k=body_text(1024))


def nginx_conf(d, ports, origin, clusters=0, conns=1024):
    up = ("  upstream {n} {{ server 127.0.0.1:{o}; keepalive 64; "
          "keepalive_requests 1000000000; keepalive_timeout 600s; }}\n")
    s = nginx_common(d, "nginx", conns) + (
        "  proxy_http_version 1.1; proxy_set_header Connection \"\";\n"
        "  proxy_max_temp_file_size 0;\n")
    if clusters:
        s += "".join(up.format(n="c%d" % i, o=origin) for i in range(clusters))
        locs = "".join("    location /c%d/ { proxy_pass http://c%d; }\n" % (i, i)
                       for i in range(clusters))
        s += "  server {{ listen 127.0.0.1:{p} backlog=4096;\n{l}  }}\n}}\n".format(
            p=ports["h1"], l=locs)
        return s
    s += up.format(n="origin", o=origin)
    loc = "location / { proxy_pass http://origin; }"
    s += "  server {{ listen 127.0.0.1:{p} backlog=4096; {l} }}\n".format(p=ports["h1"], l=loc)
    s += "  server {{ listen 127.0.0.1:{p} backlog=4096 http2; {l} }}\n".format(
        p=ports["h2c"], l=loc)
    s += ("  server {{ listen 127.0.0.1:{p} backlog=4096 ssl http2;\n"
          "    ssl_certificate {d}/cert.pem; ssl_certificate_key {d}/key.pem; {l} }}\n").format(
        p=ports["tls"], d=d, l=loc)
    return s + "}\n"


def haproxy_conf(d, ports, origin, clusters=0, conns=1024):
    # HAProxy wants 2 fds per connection and refuses to start when it cannot raise RLIMIT_NOFILE
    # that far (strict-limits); one idle client holds only one, so the check is relaxed.
    s = ("global\n  nbthread 1\n  maxconn %d\n  no strict-limits\n  ssl-server-verify none\n"
         % conns)
    s += (
         "defaults\n  mode http\n  timeout connect 5s\n  timeout client 600s\n"
         "  timeout server 600s\n  timeout http-keep-alive 600s\n  http-reuse always\n")
    if clusters:
        s += "frontend f\n  bind 127.0.0.1:%d\n" % ports["h1"]
        s += "".join("  use_backend c%d if { path_beg /c%d/ }\n" % (i, i) for i in range(clusters))
        s += "".join("backend c%d\n  server o 127.0.0.1:%d\n" % (i, origin)
                     for i in range(clusters))
        return s
    s += "frontend f\n  bind 127.0.0.1:%d\n" % ports["h1"]
    s += "  bind 127.0.0.1:%d proto h2\n" % ports["h2c"]
    s += "  bind 127.0.0.1:%d ssl crt %s/haproxy.pem alpn h2,http/1.1\n" % (ports["tls"], d)
    s += "  default_backend origin\nbackend origin\n  server o 127.0.0.1:%d\n" % origin
    return s


HCM = """      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: {stat}
          codec_type: {codec}
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
{routes}          http_filters:
          - name: envoy.filters.http.router
            typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}
"""

TLS_SOCKET = """      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            alpn_protocols: [h2, http/1.1]
            tls_certificates:
            - certificate_chain: {{filename: {d}/cert.pem}}
              private_key: {{filename: {d}/key.pem}}
"""


def outrider_listener(name, port, codec, routes, tls_dir=None):
    s = ("  - name: %s\n    address: {socket_address: {address: 127.0.0.1, port_value: %d}}\n"
         "    filter_chains:\n    - filters:\n" % (name, port))
    s += HCM.format(stat=name, codec=codec, routes=routes)
    if tls_dir:
        s += TLS_SOCKET.format(d=tls_dir)
    return s


def outrider_cluster(name, origin):
    return ("  - name: {n}\n    type: STATIC\n    connect_timeout: 1s\n"
            "    load_assignment:\n      cluster_name: {n}\n      endpoints:\n"
            "      - lb_endpoints:\n"
            "        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, "
            "port_value: {o}}}}}}}\n").format(n=name, o=origin)


def outrider_conf(d, ports, origin, clusters=0, conns=1024):
    s = ("admin:\n  address: {socket_address: {address: 127.0.0.1, port_value: %d}}\n"
         "static_resources:\n  listeners:\n" % ports["admin"])
    if clusters:
        routes = "".join("              - match: {prefix: \"/c%d/\"}\n"
                         "                route: {cluster: c%d}\n" % (i, i)
                         for i in range(clusters))
        s += outrider_listener("h1", ports["h1"], "AUTO", routes)
        s += "  clusters:\n" + "".join(outrider_cluster("c%d" % i, origin)
                                       for i in range(clusters))
        return s
    routes = "              - match: {prefix: \"/\"}\n                route: {cluster: origin}\n"
    s += outrider_listener("h1", ports["h1"], "HTTP1", routes)
    if "h2c" in OR_FEATURES:
        s += outrider_listener("h2c", ports["h2c"], "HTTP2", routes)
    if "tls" in OR_FEATURES:
        s += outrider_listener("tls", ports["tls"], "AUTO", routes, tls_dir=d)
    return s + "  clusters:\n" + outrider_cluster("origin", origin)


def proxy_cmd(name, conf, ports=None, origin=None):
    if name == "floor":
        return [RELAY, str(ports["h1"]), str(origin)]
    if name == "outrider":
        return [OUTRIDER, "-c", conf, "--concurrency", "1", "-l", "warning"]
    if name == "nginx":
        return ["nginx", "-c", conf]
    return ["haproxy", "-f", conf]


def proxy_serves(name, proto):
    return name != "outrider" or proto in OR_FEATURES


# ---------------------------------------------------------------- load generators


def parse_time_us(s):
    for unit, mul in (("us", 1.0), ("ms", 1e3), ("s", 1e6), ("m", 60e6)):
        if s.endswith(unit):
            return float(s[: -len(unit)]) * mul
    return float(s)


def run_wrk(port, path, conns, dur, tls=False, close=False):
    url = "%s://127.0.0.1:%d%s" % ("https" if tls else "http", port, path)
    cmd = ["wrk", "-t1", "-c%d" % conns, "-d%ds" % dur, "--latency", "--timeout", "5s"]
    if close:
        cmd += ["-H", "Connection: close"]
    r = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=dur + 30)
    res = {"requests": 0, "rps": None, "p50_us": None, "p99_us": None, "errors": 0, "non2xx": 0}
    in_dist = False
    for line in r.stdout.splitlines():
        f = line.split()
        if not f:
            continue
        if line.strip().startswith("Latency Distribution"):
            in_dist = True
            continue
        if in_dist and f[0] in ("50%", "99%") and len(f) >= 2:
            res["p50_us" if f[0] == "50%" else "p99_us"] = parse_time_us(f[1])
            continue
        if " requests in " in line:
            res["requests"] = int(f[0])
        elif f[0] == "Requests/sec:":
            res["rps"] = float(f[1])
        elif f[0] == "Socket" and f[1] == "errors:":
            # Socket errors: connect 0, read 0, write 0, timeout 0
            nums = [int(x.strip(",")) for x in f[2:] if x.strip(",").isdigit()]
            res["errors"] += sum(nums)
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            res["non2xx"] = int(f[-1])
    if r.returncode != 0 or res["rps"] is None:
        raise RuntimeError("wrk failed: %s %s" % (r.stdout[-500:], r.stderr[-500:]))
    return res


def run_h2load(port, path, clients, streams, dur, tls, logdir):
    url = "%s://127.0.0.1:%d%s" % ("https" if tls else "http", port, path)
    log = os.path.join(logdir, "h2load.log")
    if os.path.exists(log):
        os.unlink(log)
    cmd = ["h2load", "-t1", "-c%d" % clients, "-m%d" % streams, "-D", str(dur),
           "--log-file=" + log, url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=dur + 30)
    res = {"requests": 0, "rps": None, "p50_us": None, "p99_us": None, "errors": 0, "non2xx": 0}
    for line in r.stdout.splitlines():
        f = line.replace(",", "").split()
        if line.startswith("finished in"):
            res["rps"] = float(f[3])
        elif line.startswith("requests:"):
            # requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout
            res["requests"] = int(f[7])
            res["errors"] = int(f[9]) + int(f[11]) + int(f[13])
        elif line.startswith("status codes:"):
            res["non2xx"] = int(f[4]) + int(f[6]) + int(f[8])
    lat = []
    try:
        with open(log) as fh:
            for line in fh:
                p = line.split("\t")
                if len(p) >= 3 and p[1] == "200":
                    lat.append(int(p[2]))
    except OSError:
        pass
    if r.returncode != 0 or res["rps"] is None or not lat:
        raise RuntimeError("h2load failed: %s %s" % (r.stdout[-500:], r.stderr[-500:]))
    lat.sort()
    res["p50_us"] = float(lat[len(lat) // 2])
    res["p99_us"] = float(lat[min(len(lat) - 1, (len(lat) * 99) // 100)])
    return res


def read_response(s):
    """Reads one response with a Content-Length body; returns its status (0 if cut short)."""
    buf = b""
    need = None
    status = 0
    while need is None or len(buf) < need:
        d = s.recv(65536)
        if not d:
            return 0
        buf += d
        if need is None and b"\r\n\r\n" in buf:
            head = buf.partition(b"\r\n\r\n")[0]
            cl = 0
            for hl in head.split(b"\r\n")[1:]:
                k, _, v = hl.partition(b":")
                if k.strip().lower() == b"content-length":
                    cl = int(v.strip())
            need = len(head) + 4 + cl
            status = int(head.split(b" ", 2)[1])
    return status


def idle_connections(socks, port, path, n, batch=16):
    """Opens n connections into `socks`, one request each, and keeps them open; returns how many
    answered 200.
    A few requests are in flight at once (connect and send, then read): enough to hide the
    round trips, too few for their transient buffers to show in the per-connection figure."""
    req = ("GET %s HTTP/1.1\r\nHost: bench\r\n\r\n" % path).encode()
    ok = 0
    while len(socks) < n:
        cur = []
        for _ in range(min(batch, n - len(socks))):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            socks.append(s)
            cur.append(s)
            s.sendall(req)
        for s in cur:
            if read_response(s) == 200:
                ok += 1
    return ok


def count_closed(socks):
    """Idle connections the proxy has closed (readable at EOF)."""
    closed = 0
    poller = select.poll()
    for s in socks:
        poller.register(s.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
    for _fd, _ev in poller.poll(0):
        closed += 1
    return closed


# ---------------------------------------------------------------- scenarios


class Bench:
    def __init__(self):
        self.procs = Procs()
        self.work = tempfile.mkdtemp(prefix="or-bench.")
        os.chmod(self.work, 0o755)  # nginx workers run as nobody and read the body files
        cpus = sorted(os.sched_getaffinity(0))
        self.proxy_cpu = cpus[0]
        self.load_cpu = cpus[1] if len(cpus) > 1 else cpus[0]
        os.sched_setaffinity(0, {self.load_cpu})  # the harness itself is load (idle client)
        self.results = []  # dicts: scenario, proxy, metrics, notes
        self.origin = None
        self.origin_port = free_port()

    def log(self, msg):
        print(msg, flush=True)

    # -- set-up

    def prepare(self):
        d = self.work
        for n in ("origin", "nginx"):
            os.makedirs(os.path.join(d, "ngx-" + n), exist_ok=True)
        with open(os.path.join(d, "64k.bin"), "wb") as f:
            f.write(b"x" * 65535 + b"\n")
        with open(os.path.join(d, "1g.bin"), "wb") as f:
            f.truncate(BODY_BYTES)  # sparse: no disk, the page cache serves zeros
        with open(os.path.join(d, "1g.bin"), "rb") as f:
            while f.read(1 << 20):  # into the page cache before anything is measured
                pass
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                        "/CN=localhost", "-keyout", d + "/key.pem", "-out", d + "/cert.pem"],
                       check=True, capture_output=True, timeout=30)
        with open(d + "/haproxy.pem", "w") as out:
            for f in ("cert.pem", "key.pem"):
                with open(os.path.join(d, f)) as src:
                    out.write(src.read())
        conf = os.path.join(d, "origin.conf")
        with open(conf, "w") as f:
            f.write(origin_conf(d, self.origin_port))
        self.origin = self.procs.start(["nginx", "-c", conf], self.load_cpu, d + "/origin.log")
        wait_200(self.origin_port, "/100", time.monotonic() + 10, self.origin)
        for path, size in (("/100", 100), ("/1k", 1024), ("/64k", 65536)):
            r = http_get(self.origin_port, path)
            if r != (200, size):
                raise RuntimeError("origin %s answered %s" % (path, r))

    def start_proxy(self, name, clusters=0, conns=1024):
        ports = {k: free_port() for k in ("h1", "h2c", "tls", "admin")}
        gen = {"outrider": outrider_conf, "nginx": nginx_conf, "haproxy": haproxy_conf}.get(name)
        ext = "yaml" if name == "outrider" else "conf"
        conf = os.path.join(self.work, "%s%s.%s" % (name, "-cold" if clusters else "", ext))
        if gen is not None:
            with open(conf, "w") as f:
                f.write(gen(self.work, ports, self.origin_port, clusters, conns))
        t0 = time.monotonic()
        p = self.procs.start(proxy_cmd(name, conf, ports, self.origin_port), self.proxy_cpu,
                             os.path.join(self.work, name + ".log"))
        return p, ports, t0

    def ready_proxy(self, name, conns=1024):
        """Starts a proxy and waits for a proxied 200; one retry with new ports (a port can still
        be taken by another program between the check and the proxy's bind)."""
        for attempt in (1, 2):
            p, ports, _ = self.start_proxy(name, conns=conns)
            try:
                wait_200(ports["h1"], "/100", time.monotonic() + 15, p, interval=0.005)
                return p, ports
            except RuntimeError as e:
                self.procs.stop(p)
                if attempt == 2:
                    raise RuntimeError("%s; log: %s" % (e, self.log_tail(name)))
                self.log("   %s did not start (%s), retrying: %s" % (name, e,
                                                                     self.log_tail(name)))

    def log_tail(self, name):
        try:
            with open(os.path.join(self.work, name + ".log"), errors="replace") as f:
                return " / ".join(f.read().strip().splitlines()[-3:])
        except OSError:
            return ""

    def add(self, sid, proxy, metrics, notes=None):
        self.results.append({"scenario": sid, "proxy": proxy, "metrics": metrics,
                             "notes": notes or []})

    # -- runners

    def load_run(self, sid, proto, kind, prm, name):
        p, ports = self.ready_proxy(name)
        try:
            port = ports[proto]

            def go(dur):
                if kind == "wrk":
                    return run_wrk(port, prm["path"], prm["c"], dur, prm.get("tls", False),
                                   prm.get("close", False))
                return run_h2load(port, prm["path"], prm["c"], prm["m"], dur,
                                  prm.get("tls", False), self.work)

            go(WARM)
            o0, g0 = cpu_ticks(self.origin.pid), children_cpu_s()
            t0, k0, w0 = cpu_ticks(p.pid), cpu_ticks(p.pid, (12,)), time.monotonic()
            r = go(DUR)
            t1, k1, w1 = cpu_ticks(p.pid), cpu_ticks(p.pid, (12,)), time.monotonic()
            o1, g1 = cpu_ticks(self.origin.pid), children_cpu_s()
            cpu_s = (t1 - t0) / CLK_TCK
            n = r["requests"]
            m = {"rps": r["rps"], "p50_us": r["p50_us"], "p99_us": r["p99_us"],
                 "cpu_us_per_req": cpu_s * 1e6 / n if n else None,
                 # the kernel's part: what no user-space work can remove
                 "sys_us_per_req": (k1 - k0) * 1e6 / CLK_TCK / n if n else None,
                 "rss_peak_kib": mem_kib(p.pid, "VmHWM"),
                 "core_busy_pct": 100.0 * cpu_s / (w1 - w0), "requests": n,
                 # what the other core spent per request: the origin and wrk / h2load
                 "origin_cpu_us_per_req": (o1 - o0) * 1e6 / CLK_TCK / n if n else None,
                 "loadgen_cpu_us_per_req": (g1 - g0) * 1e6 / n if n else None}
            notes = []
            if r["errors"]:
                notes.append("%d socket errors" % r["errors"])
            if r["non2xx"]:
                notes.append("%d non-2xx responses" % r["non2xx"])
            return m, notes
        finally:
            self.procs.stop(p)

    def direct_run(self, kind, prm):
        run_wrk(self.origin_port, prm["path"], prm["c"], WARM)
        o0, g0 = cpu_ticks(self.origin.pid), children_cpu_s()
        r = run_wrk(self.origin_port, prm["path"], prm["c"], DUR)
        o1, g1 = cpu_ticks(self.origin.pid), children_cpu_s()
        n = r["requests"] or 1
        return {"rps": r["rps"], "p50_us": r["p50_us"], "p99_us": r["p99_us"], "requests": n,
                "origin_cpu_us_per_req": (o1 - o0) * 1e6 / CLK_TCK / n,
                "loadgen_cpu_us_per_req": (g1 - g0) * 1e6 / n}

    def idle_run(self, prm, name):
        p, ports = self.ready_proxy(name, conns=IDLE_N + 1024)
        socks = []
        try:
            rss0 = mem_kib(p.pid, "VmRSS")
            t0 = time.monotonic()
            ok = idle_connections(socks, ports["h1"], prm["path"], IDLE_N)
            t_open = time.monotonic() - t0
            time.sleep(0.5)  # idle: let timers and deferred frees run
            rss1 = mem_kib(p.pid, "VmRSS")
            closed = count_closed(socks)
            m = {"kib_per_conn": (rss1 - rss0) / float(IDLE_N), "rss_peak_kib":
                 mem_kib(p.pid, "VmHWM"), "rss_before_kib": rss0, "rss_after_kib": rss1,
                 "conns": IDLE_N, "open_s": t_open}
            notes = []
            if ok != IDLE_N:
                notes.append("%d/%d requests answered 200" % (ok, IDLE_N))
            if closed:
                notes.append("%d idle connections closed by the proxy" % closed)
            return m, notes
        finally:
            for s in socks:
                s.close()
            self.procs.stop(p)

    def stream_run(self, prm, name, runs=STREAM_RUNS):
        """curl of the whole body to /dev/null, best of STREAM_RUNS (a shared machine's noise
        only ever slows a transfer down); name None = straight from the origin."""
        if name is None:
            p, port = None, self.origin_port
        else:
            p, ports = self.ready_proxy(name)
            port = ports["h1"]
        try:
            best, notes = None, []
            for _ in range(runs):
                t0 = cpu_ticks(p.pid) if p else 0
                r = subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "120", "-w",
                                    "%{http_code} %{size_download} %{time_total}",
                                    "http://127.0.0.1:%d%s" % (port, prm["path"])],
                                   capture_output=True, text=True, timeout=150)
                code, size, secs = r.stdout.split()
                size, secs = int(size), float(secs)
                m = {"mb_per_s": size / secs / 1e6, "seconds": secs}
                if p:
                    m["cpu_us_per_req"] = (cpu_ticks(p.pid) - t0) * 1e6 / CLK_TCK
                if code != "200" or size != BODY_BYTES:
                    notes.append("status %s, %d of %d bytes" % (code, size, BODY_BYTES))
                if best is None or m["mb_per_s"] > best["mb_per_s"]:
                    best = m
            if p:
                best["rss_peak_kib"] = mem_kib(p.pid, "VmHWM")
            best["runs"] = runs
            return best, notes
        finally:
            if p:
                self.procs.stop(p)

    def cold_run(self, name):
        starts, firsts, idles, peaks = [], [], [], []
        for _ in range(COLD_RUNS):
            p, ports, t0 = self.start_proxy(name, clusters=COLD_CLUSTERS)
            try:
                deadline = t0 + 20
                path = "/c%d/100" % (COLD_CLUSTERS - 1)
                if name == "outrider":
                    # LIVE: admin /ready answers 200 (Envoy's readiness); then the listener.
                    wait_200(ports["admin"], "/ready", deadline, p)
                    starts.append((time.monotonic() - t0) * 1e3)
                    wait_200(ports["h1"], path, deadline, p)
                    firsts.append((time.monotonic() - t0) * 1e3)
                else:
                    wait_200(ports["h1"], path, deadline, p)
                    starts.append((time.monotonic() - t0) * 1e3)
                    firsts.append(starts[-1])
                time.sleep(0.5)
                idles.append(mem_kib(p.pid, "VmRSS"))
                peaks.append(mem_kib(p.pid, "VmHWM"))
            finally:
                self.procs.stop(p)
        return {"start_ms": statistics.median(starts), "first_200_ms": statistics.median(firsts),
                "rss_idle_kib": statistics.median(idles), "rss_peak_kib": max(peaks),
                "runs": COLD_RUNS}, []

    # -- driver

    def run(self, only, proxies):
        self.prepare()
        for i, (sid, label, proto, kind, prm) in enumerate(SCENARIOS):
            if only and sid not in only:
                continue
            t_sc = time.monotonic()
            self.log("== %s: %s" % (sid, label))
            if kind == "stream":
                # One unrecorded transfer straight from the origin: page cache and the origin's
                # open-file cache are warm for every proxy. (Not a ceiling: curl and the origin
                # share one core then, while a proxy spreads the work over two.)
                self.stream_run(prm, None, runs=1)
            if prm.get("direct"):
                self.add(sid, "direct", self.direct_run(kind, prm), ["origin without a proxy"])
            if prm.get("floor") and os.access(RELAY, os.X_OK):
                try:
                    m, notes = self.load_run(sid, proto, kind, prm, "floor")
                except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as e:
                    m, notes = None, ["failed: %s" % str(e).replace("\n", " ")[:300]]
                self.add(sid, "floor", m, notes + ["byte relay: the 4 socket calls only"])
                self.log("   %-8s %s" % ("floor", short_metrics(m)))
            # The order rotates from one scenario to the next, so that a drift in the load of a
            # shared machine does not always favour the same proxy; rows are printed in one order.
            k = i % len(proxies)
            for name in proxies[k:] + proxies[:k]:
                if not proxy_serves(name, proto):
                    self.add(sid, name, None, ["n/a: Outrider has no %s yet" %
                                               {"h2c": "HTTP/2", "tls": "TLS"}[proto]])
                    continue
                try:
                    if kind in ("wrk", "h2load"):
                        m, notes = self.load_run(sid, proto, kind, prm, name)
                    elif kind == "idle":
                        m, notes = self.idle_run(prm, name)
                    elif kind == "stream":
                        m, notes = self.stream_run(prm, name)
                    else:
                        m, notes = self.cold_run(name)
                except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as e:
                    m, notes = None, ["failed: %s" % str(e).replace("\n", " ")[:300]]
                self.add(sid, name, m, notes)
                self.log("   %-8s %s %s" % (name, short_metrics(m), "; ".join(notes)))
            self.log("   (%.1f s)" % (time.monotonic() - t_sc))
        order = {n: j for j, n in enumerate(ROWS)}
        sc_order = {s[0]: j for j, s in enumerate(SCENARIOS)}
        self.results.sort(key=lambda r: (sc_order[r["scenario"]], order[r["proxy"]]))
        self.derive()

    def derive(self):
        """added latency over direct, then ratios to the best peer of the same scenario."""
        by_sid = {}
        for r in self.results:
            by_sid.setdefault(r["scenario"], []).append(r)
        for sid, rows in by_sid.items():
            direct = [r for r in rows if r["proxy"] == "direct" and r["metrics"]]
            if direct and direct[0]["metrics"].get("p50_us") is not None:
                d50 = direct[0]["metrics"]["p50_us"]
                for r in rows:
                    if r["proxy"] in ROWS[1:] and r["metrics"] and r["metrics"].get("p50_us"):
                        r["metrics"]["added_p50_us"] = r["metrics"]["p50_us"] - d50
            for key, (_, higher) in METRICS.items():
                vals = [r["metrics"][key] for r in rows if r["proxy"] in PEERS and r["metrics"]
                        and r["metrics"].get(key) is not None]
                if not vals:
                    continue
                best = max(vals) if higher else min(vals)
                for r in rows:
                    v = r["metrics"].get(key) if r["metrics"] else None
                    if v is not None and r["proxy"] in ROWS[1:] and best > 0:
                        r.setdefault("ratios", {})[key] = v / best

    def cleanup(self):
        self.procs.stop_all()
        subprocess.run(["rm", "-rf", self.work], timeout=60)


# ---------------------------------------------------------------- output


def fmt_value(key, v):
    if v is None:
        return "-"
    if key in ("p50_us", "p99_us", "added_p50_us"):
        return "%.0fus" % v if abs(v) < 1000 else "%.2fms" % (v / 1e3)
    if key == "rps":
        return "%.1fk" % (v / 1e3) if v >= 1000 else "%.0f" % v
    if key in ("rss_peak_kib", "rss_idle_kib"):
        return "%.1fM" % (v / 1024.0)
    if key in ("cpu_us_per_req", "sys_us_per_req"):
        return "%.1f" % v if v < 10000 else "%.0f" % v
    if key == "kib_per_conn":
        return "%.2f" % v
    if key == "mb_per_s":
        return "%.0f" % v
    return "%.1f" % v


def cell(r, key):
    m = r["metrics"]
    if m is None or m.get(key) is None:
        return ""
    s = fmt_value(key, m[key])
    ratio = r.get("ratios", {}).get(key)
    if ratio is not None:
        s += " x%.2f" % ratio
    return s


EXTRA_KEYS = ("sys_us_per_req", "added_p50_us", "kib_per_conn", "mb_per_s", "start_ms",
              "first_200_ms", "rss_idle_kib")
COLS = ("rps", "p50_us", "p99_us", "cpu_us_per_req", "rss_peak_kib")


def other_cell(r):
    parts = []
    for k in EXTRA_KEYS:
        c = cell(r, k)
        if c:
            parts.append("%s %s" % (METRICS[k][0], c))
    return "; ".join(parts)


def short_metrics(m):
    if m is None:
        return "n/a"
    return " ".join("%s=%s" % (k, fmt_value(k, v)) for k, v in m.items()
                    if k in METRICS and v is not None)


def table_rows(results):
    rows = []
    labels = {s[0]: s[1] for s in SCENARIOS}
    last = None
    for r in results:
        sid = r["scenario"]
        first = sid != last
        last = sid
        name = r["proxy"]
        if r["metrics"] is None:
            rows.append([labels[sid] if first else "", name, "n/a", "n/a", "n/a", "n/a", "n/a",
                         "; ".join(r["notes"]), ""])
            continue
        busy = r["metrics"].get("core_busy_pct")
        plain = name in ("direct", "floor")
        rows.append([labels[sid] if first else "", name + ("!" if r["notes"] and not plain
                                                           else "")]
                    + [cell(r, k) for k in COLS]
                    + [other_cell(r), "%.0f%%" % busy if busy is not None else ""])
        if r["notes"] and not plain:
            rows[-1][7] = (rows[-1][7] + "; " if rows[-1][7] else "") + "! " + "; ".join(
                r["notes"])
    return rows


HEAD = ["scenario", "proxy", "req/s", "p50", "p99", "CPU-us/req", "peak RSS", "other",
        "core busy"]


def text_table(rows):
    w = [max(len(str(x[i])) for x in rows + [HEAD]) for i in range(len(HEAD))]
    w[0] = min(w[0], 56)
    lines = ["  ".join(str(h).ljust(w[i]) for i, h in enumerate(HEAD))]
    lines.append("  ".join("-" * w[i] for i in range(len(HEAD))))
    for x in rows:
        lines.append("  ".join(str(v).ljust(w[i]) for i, v in enumerate(x)).rstrip())
    return "\n".join(lines)


def md_table(rows):
    out = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for x in rows:
        out.append("| " + " | ".join(str(v).replace("|", "/") for v in x) + " |")
    return "\n".join(out)


def md_header(info):
    return ("Run of %s (git %s)%s on %s, %s CPUs, kernel %s; proxy on CPU %s, load generator, "
            "origin and harness on CPU %s; %d s measured runs after %d s warm-up; load average "
            "%s at the start, %s at the end; %.0f s in all.\n\n"
            "Versions: %s; %s; %s; %s; %s; %s.\n" % (
                info["date"], info["git"], " (QUICK)" if info["quick"] else "",
                info["cpu_model"], info["nproc"], info["kernel"], info["proxy_cpu"],
                info["load_cpu"], info["duration_s"], info["warmup_s"],
                " ".join(info["loadavg_start"]), " ".join(info.get("loadavg_end", [])),
                info.get("elapsed_s", 0), info["outrider"], info["nginx"], info["haproxy"],
                info["wrk"], info["h2load"], info["curl"]))


def tool_version(cmd, words=3):
    """First non-empty line of `cmd`'s output, cut to its first `words` words."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        line = [x.strip() for x in (r.stdout + r.stderr).splitlines() if x.strip()][0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"
    if "version:" in line and cmd[0] == OUTRIDER:
        line = "outrider " + line.split("version:", 1)[1].strip()
    return " ".join(line.split()[:words])


def machine_info(b):
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        sha = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        sha = "unknown"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
        "proxy_cpu": b.proxy_cpu, "load_cpu": b.load_cpu, "git": sha,
        "quick": QUICK, "duration_s": DUR, "warmup_s": WARM, "idle_conns": IDLE_N,
        "outrider": tool_version([OUTRIDER, "--version"], 2),
        "nginx": tool_version(["nginx", "-v"]), "haproxy": tool_version(["haproxy", "-v"]),
        "wrk": tool_version(["wrk", "-v"], 2), "h2load": tool_version(["h2load", "--version"]),
        "curl": tool_version(["curl", "--version"], 2),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }


def write_outputs(b, info, rows):
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "results.json"), "w") as f:
        json.dump({"machine": info, "scenarios": [{"id": s[0], "label": s[1], "protocol": s[2]}
                                                  for s in SCENARIOS],
                   "results": b.results}, f, indent=1)
    with open(os.path.join(OUT_DIR, "results.tsv"), "w") as f:
        f.write("scenario\tproxy\tmetric\tvalue\tratio_to_best_peer\n")
        for r in b.results:
            for k, v in (r["metrics"] or {}).items():
                ratio = r.get("ratios", {}).get(k)
                f.write("%s\t%s\t%s\t%s\t%s\n" % (r["scenario"], r["proxy"], k, v,
                                                  "" if ratio is None else "%.4f" % ratio))
    with open(os.path.join(OUT_DIR, "results.md"), "w") as f:
        f.write(md_header(info) + "\n" + md_table(rows) + "\n")


def main():
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    proxies = [p for p in os.environ.get("BENCH_PROXIES", ",".join(PROXIES)).split(",") if p]
    if not os.access(OUTRIDER, os.X_OK):
        sys.exit("bench: %s is missing (build it: make build)" % OUTRIDER)
    for tool in ("wrk", "h2load", "nginx", "haproxy", "curl", "openssl", "taskset"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            sys.exit("bench: %s is missing (make deps)" % tool)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = IDLE_N + 1000
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, 200000), max(want, 200000)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        if hard < want:
            sys.exit("bench: RLIMIT_NOFILE hard limit %d < %d (raise it or lower "
                     "BENCH_IDLE_CONNS)" % (hard, want))
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(s, _bail)
    signal.alarm(TIME_BOUND)
    t_start = time.monotonic()
    b = Bench()
    try:
        info = machine_info(b)
        print("Outrider load benchmark%s: proxy on CPU %d, load+origin on CPU %d, %ds runs "
              "(%ds warm-up), %s" % (" (QUICK)" if QUICK else "", b.proxy_cpu, b.load_cpu, DUR,
                                    WARM, info["date"]), flush=True)
        b.run(only, proxies)
    except Bail as e:
        sys.exit("bench: stopped by %s; every process it started was ended" % e)
    finally:
        signal.alarm(0)
        b.cleanup()
    info["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    info["elapsed_s"] = round(time.monotonic() - t_start, 1)
    rows = table_rows(b.results)
    write_outputs(b, info, rows)
    print()
    print("Outrider vs nginx / HAProxy, one worker each, %s, %s; x = ratio to the best peer; "
          "load average %s -> %s" % (info["cpu_model"], info["date"],
                                     " ".join(info["loadavg_start"]),
                                     " ".join(info["loadavg_end"])))
    print(text_table(rows))
    print("\nresults: %s/results.{json,tsv,md} (%.0f s)" % (OUT_DIR, info["elapsed_s"]))


if __name__ == "__main__":
    main()
