"""Shared helpers for Outrider's integration tests (Python 3 standard library only).

Every test file imports this module and ends with ``harness.main()``. It provides:

* free loopback ports, RLIMIT_NOFILE raising, a tiny YAML emitter and Envoy v3 bootstrap builders;
* ``Proxy``: starts the binary named by $OUTRIDER, waits for admin ``GET /ready`` == 200, stops it
  by PID (SIGTERM, then SIGKILL after a bound) and fails the test unless the exit was clean (exit 0
  and no sanitizer report in the log);
* ``Upstream``: an in-process HTTP/1.1 origin (one thread per connection, keep-alive, pipelining
  safe) that records every raw byte it receives per connection and serves the routes described in
  ``Upstream.__doc__``;
* raw-socket and curl clients, and an HTTP/1.1 response parser for pipelined/malformed exchanges;
* ``main()``: a unittest runner that prints ``N passed, M failed`` and exits non-zero on failure,
  with a watchdog so no file can hang.
"""

import faulthandler
import hashlib
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

# --------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("OR_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD_DIR = os.environ.get("OR_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
OUTRIDER = os.environ.get("OUTRIDER") or os.path.join(BUILD_DIR, "outrider")
SANITIZED = os.environ.get("OR_SANITIZED") == "1"
# Sanitized binaries are several times slower; bounds that are about time scale with this.
SLOW = 3.0 if SANITIZED else 1.0
READY_TIMEOUT = 10.0 * (2.0 if SANITIZED else 1.0)
STOP_TIMEOUT = 10.0 * (2.0 if SANITIZED else 1.0)
EXIT_SANITIZER = 66  # ASAN_OPTIONS exitcode set by CMakeLists.txt

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "WARNING: ThreadSanitizer",
    "SUMMARY: UndefinedBehaviorSanitizer",
)

_LIVE_PROXIES = []  # every Proxy started and not yet stopped, for log dumps on failure


def log(msg):
    """Progress line on stderr (ctest shows it with --output-on-failure)."""
    sys.stderr.write("[integ %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def raise_nofile(want=65536):
    """Raise this process's RLIMIT_NOFILE (children, i.e. the proxy, inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_ports(n=1, host="127.0.0.1"):
    """Return n distinct loopback TCP ports that were free a moment ago (bound to port 0)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port(host="127.0.0.1"):
    return free_ports(1, host)[0]


def closed_port():
    """A loopback port with nothing listening on it (connect gets ECONNREFUSED)."""
    return free_port()


def port_is_free(port, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def tcp_listening(port, host="127.0.0.1", timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------------
# Deterministic payloads
# --------------------------------------------------------------------------------------------

# A prime period so that reordered or duplicated power-of-two-sized buffers cannot go unnoticed.
PATTERN_PERIOD = 65521
_PATTERN = random.Random(20240229).randbytes(PATTERN_PERIOD)
_PATTERN_BIG = _PATTERN * 18  # > 1 MiB + one period, so any 1 MiB window is a plain slice
WINDOW = 1 << 20


def pattern_slice(offset, size):
    """Bytes [offset, offset+size) of the infinite pattern stream; size <= WINDOW."""
    assert size <= WINDOW
    start = offset % PATTERN_PERIOD
    return memoryview(_PATTERN_BIG)[start:start + size]


def pattern_iter(n, block=WINDOW):
    """Yield the first n pattern bytes as memoryviews of at most `block` bytes."""
    off = 0
    while off < n:
        size = min(block, n - off)
        yield pattern_slice(off, size)
        off += size


def pattern_bytes(n):
    return b"".join(bytes(c) for c in pattern_iter(n))


_SHA_CACHE = {}


def pattern_sha256(n):
    """Hex SHA-256 of the first n pattern bytes (cached)."""
    if n not in _SHA_CACHE:
        h = hashlib.sha256()
        for c in pattern_iter(n):
            h.update(c)
        _SHA_CACHE[n] = h.hexdigest()
    return _SHA_CACHE[n]


def write_pattern_file(path, n):
    with open(path, "wb") as f:
        for c in pattern_iter(n):
            f.write(c)
    return path


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(WINDOW)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# YAML emitter (block style) and Envoy v3 bootstrap builders
# --------------------------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_PLAIN_STR = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./\-]*$")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"}


def _yaml_scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        if _PLAIN_STR.match(v) and v.lower() not in _YAML_WORDS:
            return v
        return json.dumps(v)  # a JSON string is a valid YAML double-quoted scalar
    raise TypeError("cannot emit %r as YAML" % (v,))


def _yaml_key(k):
    return k if _PLAIN_KEY.match(k) else json.dumps(k)


def _yaml_lines(obj, indent):
    pad = " " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = _yaml_key(str(k))
            if isinstance(v, dict) and v:
                out.append("%s%s:" % (pad, key))
                out.extend(_yaml_lines(v, indent + 2))
            elif isinstance(v, list) and v:
                out.append("%s%s:" % (pad, key))
                out.extend(_yaml_lines(v, indent + 2))
            elif isinstance(v, dict):
                out.append("%s%s: {}" % (pad, key))
            elif isinstance(v, list):
                out.append("%s%s: []" % (pad, key))
            else:
                out.append("%s%s: %s" % (pad, key, _yaml_scalar(v)))
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, (dict, list)) and item:
                sub = _yaml_lines(item, indent + 2)
                sub[0] = pad + "- " + sub[0][indent + 2:]
                out.extend(sub)
            elif isinstance(item, dict):
                out.append(pad + "- {}")
            elif isinstance(item, list):
                out.append(pad + "- []")
            else:
                out.append(pad + "- " + _yaml_scalar(item))
    else:
        out.append(pad + _yaml_scalar(obj))
    return out


def to_yaml(obj):
    """Block-style YAML for nested dict/list/str/int/bool/None."""
    return "\n".join(_yaml_lines(obj, 0)) + "\n"


HCM_TYPE = ("type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
            "HttpConnectionManager")
ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"


def socket_address(port, host="127.0.0.1"):
    return {"socket_address": {"address": host, "port_value": port}}


def route(prefix, cluster=None, **extra):
    """A prefix route to `cluster`; extra keys go into RouteAction (timeout, prefix_rewrite...)."""
    action = {"cluster": cluster}
    action.update(extra)
    return {"match": {"prefix": prefix}, "route": action}


def weighted_route(prefix, weights, **extra):
    """weights: list of (cluster, weight)."""
    action = {"weighted_clusters": {"clusters": [{"name": c, "weight": w} for c, w in weights]}}
    action.update(extra)
    return {"match": {"prefix": prefix}, "route": action}


def direct_route(prefix, status, body=None):
    dr = {"status": status}
    if body is not None:
        dr["body"] = {"inline_string": body}
    return {"match": {"prefix": prefix}, "direct_response": dr}


def virtual_host(name, routes, domains=("*",)):
    return {"name": name, "domains": list(domains), "routes": list(routes)}


def http_listener(name, port, virtual_hosts, stat_prefix=None, **hcm_extra):
    """A listener with one HTTP connection manager (inline route_config, router filter)."""
    hcm = {
        "@type": HCM_TYPE,
        "stat_prefix": stat_prefix or name,
        "codec_type": "AUTO",
        "route_config": {"name": name + "_routes", "virtual_hosts": list(virtual_hosts)},
        "http_filters": [{"name": "envoy.filters.http.router",
                          "typed_config": {"@type": ROUTER_TYPE}}],
    }
    hcm.update(hcm_extra)
    return {
        "name": name,
        "address": socket_address(port),
        "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                        "typed_config": hcm}]}],
    }


def static_cluster(name, endpoints, connect_timeout="1s", lb_policy="ROUND_ROBIN", **extra):
    """endpoints: list of (host, port) or ports (127.0.0.1 implied); [] gives no hosts."""
    lbs = []
    for ep in endpoints:
        host, port = ep if isinstance(ep, tuple) else ("127.0.0.1", ep)
        lbs.append({"endpoint": {"address": socket_address(port, host)}})
    c = {
        "name": name,
        "type": "STATIC",
        "connect_timeout": connect_timeout,
        "lb_policy": lb_policy,
        "load_assignment": {"cluster_name": name,
                            "endpoints": [{"lb_endpoints": lbs}] if lbs else []},
    }
    c.update(extra)
    return c


def bootstrap(admin_port, listeners, clusters, **extra):
    b = {
        "admin": {"address": socket_address(admin_port)},
        "static_resources": {"listeners": list(listeners), "clusters": list(clusters)},
    }
    b.update(extra)
    return b


# --------------------------------------------------------------------------------------------
# Proxy process
# --------------------------------------------------------------------------------------------


class ProxyError(AssertionError):
    pass


class Proxy:
    """One outrider process. Use as a context manager or call start()/stop()."""

    def __init__(self, config, args=(), concurrency=2, log_level="info", env=None,
                 name="outrider", admin_port=None, listener_ports=(), workdir=None):
        """config: a dict (emitted as YAML) or a YAML/JSON string. admin_port is read from the
        dict when not given; listener_ports (or those found in the dict) are checked to accept
        connections right after /ready answers 200."""
        self.config = config
        self.args = list(args)
        self.concurrency = concurrency
        self.log_level = log_level
        self.env = env
        self.name = name
        self.proc = None
        self.workdir = workdir or tempfile.mkdtemp(prefix="outrider-integ-")
        self._own_workdir = workdir is None
        self.config_path = os.path.join(self.workdir, name + ".yaml")
        self.log_path = os.path.join(self.workdir, name + ".log")
        self.admin_port = admin_port
        self.listener_ports = list(listener_ports)
        if isinstance(config, dict):
            if self.admin_port is None:
                self.admin_port = config["admin"]["address"]["socket_address"]["port_value"]
            if not self.listener_ports:
                for lst in config.get("static_resources", {}).get("listeners", []):
                    self.listener_ports.append(lst["address"]["socket_address"]["port_value"])
        self.exit_code = None

    # -- lifecycle --

    def command(self):
        return [OUTRIDER, "-c", self.config_path, "--concurrency", str(self.concurrency),
                "-l", self.log_level] + self.args

    def start(self, wait=True):
        text = to_yaml(self.config) if isinstance(self.config, dict) else self.config
        with open(self.config_path, "w") as f:
            f.write(text)
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self._logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdout=self._logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=self.workdir)
        _LIVE_PROXIES.append(self)
        if wait:
            self.wait_ready()
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=READY_TIMEOUT):
        """Poll admin GET /ready until 200 (bounded); then every listener must accept."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if not self.alive():
                raise ProxyError("%s exited with %s before becoming ready\n%s"
                                 % (self.name, self.proc.returncode, self.log_tail()))
            try:
                status, _, body = http_get(self.admin_port, "/ready", timeout=1.0)
                if status == 200:
                    break
                last = "%d %r" % (status, body[:100])
            except OSError as e:
                last = repr(e)
            time.sleep(0.05)
        else:
            raise ProxyError("%s not ready after %.0fs (last: %s)\n%s"
                             % (self.name, timeout, last, self.log_tail()))
        for port in self.listener_ports:
            if not tcp_listening(port):
                raise ProxyError("%s: /ready is 200 but listener port %d refuses connections\n%s"
                                 % (self.name, port, self.log_tail()))
        return self

    def stop(self, check=True, sig=signal.SIGTERM):
        """Stop by PID: `sig`, then SIGKILL after STOP_TIMEOUT. With check, raise unless the exit
        was clean (code 0, no sanitizer report)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                self._close_log()
                self._unregister()
                if check:
                    raise ProxyError("%s did not exit within %.0fs of signal %d; killed\n%s"
                                     % (self.name, STOP_TIMEOUT, sig, self.log_tail()))
                return self.proc.returncode
        self.exit_code = self.proc.returncode
        self._close_log()
        self._unregister()
        if check:
            self.check_clean_exit()
        return self.exit_code

    def check_clean_exit(self):
        text = self.log_text()
        found = [m for m in SANITIZER_MARKERS if m in text]
        if self.exit_code == EXIT_SANITIZER or found:
            raise ProxyError("%s: sanitizer reported errors (exit %s, %s)\n%s"
                             % (self.name, self.exit_code, found, self.log_tail(400)))
        if self.exit_code != 0:
            raise ProxyError("%s: unclean exit code %s after SIGTERM\n%s"
                             % (self.name, self.exit_code, self.log_tail()))

    def _close_log(self):
        f = getattr(self, "_logf", None)
        if f and not f.closed:
            f.close()

    def _unregister(self):
        if self in _LIVE_PROXIES:
            _LIVE_PROXIES.remove(self)

    def cleanup(self):
        if self.alive():
            self.stop(check=False)
        if self._own_workdir and os.environ.get("OR_KEEP_TMP") != "1":
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.stop(check=True)
        finally:
            self.cleanup()
        return False

    # -- observation --

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=150):
        text = self.log_text().splitlines()
        head = "----- %s log (%s), last %d of %d lines -----" % (
            self.name, self.log_path, min(lines, len(text)), len(text))
        return "\n".join([head] + text[-lines:] + ["----- end of log -----"])

    def rss_kib(self):
        """VmRSS of the proxy process in KiB (0 when unknown)."""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def admin_get(self, path, timeout=5.0):
        return http_get(self.admin_port, path, timeout=timeout)


def run_outrider(args, timeout=15.0, env=None):
    """Run the binary to completion (validate mode, --version, bad flags...)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([OUTRIDER] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=timeout * SLOW, env=e)


def write_temp(text, suffix=".yaml", prefix="outrider-cfg-"):
    fd, path = tempfile.mkstemp(suffix=suffix, prefix=prefix)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


# --------------------------------------------------------------------------------------------
# In-process upstream HTTP/1.1 server
# --------------------------------------------------------------------------------------------


class UpstreamRequest:
    """One request as the upstream parsed it."""

    def __init__(self, method, target, version, headers):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers  # list of (name, value) as received, case preserved
        parsed = urllib.parse.urlsplit(target)
        self.path = parsed.path
        self.query = dict(urllib.parse.parse_qsl(parsed.query))
        self.body_len = 0
        self.body_sha = hashlib.sha256()
        self.body_head = bytearray()  # first BODY_KEEP bytes
        self.chunked = False
        self.trailers = []

    BODY_KEEP = 1 << 20

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def has(self, name):
        return self.header(name) is not None

    def headers_lower(self):
        return [(k.lower(), v) for k, v in self.headers]

    def body_sha256(self):
        return self.body_sha.hexdigest()

    def to_json(self):
        return {"method": self.method, "target": self.target, "path": self.path,
                "version": self.version, "headers": self.headers, "body_len": self.body_len,
                "chunked": self.chunked}


class UpstreamConn:
    """Record of one accepted connection."""

    RAW_KEEP = 1 << 20

    def __init__(self, sock, peer, index):
        self.sock = sock
        self.peer = peer
        self.index = index
        self.raw = bytearray()  # first RAW_KEEP bytes received
        self.raw_len = 0
        self.requests = []
        self.bytes_sent = 0
        self.closed = False
        self.error = None


class _BadRequest(Exception):
    pass


class _Closed(Exception):
    pass


class _Reader:
    """Buffered reader over a socket that records every byte received."""

    def __init__(self, conn, server):
        self.conn = conn
        self.server = server
        self.buf = bytearray()
        self.eof = False

    def _fill(self):
        if self.eof:
            raise _Closed()
        try:
            data = self.conn.sock.recv(262144)
        except (ConnectionResetError, OSError):
            data = b""
        if not data:
            self.eof = True
            raise _Closed()
        self.server._record(self.conn, data)
        self.buf += data

    def readline(self, limit=65536 * 4):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                if not line.endswith(b"\r\n"):
                    raise _BadRequest("bare LF in %r" % line[:80])
                return line[:-2]
            if len(self.buf) > limit:
                raise _BadRequest("line too long")
            self._fill()

    def read_some(self, maxn):
        if not self.buf:
            self._fill()
        n = min(maxn, len(self.buf))
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def at_start_of_message(self):
        """True once at least one byte of a next message is available; False on clean EOF."""
        if self.buf:
            return True
        try:
            self._fill()
        except _Closed:
            return False
        return True


_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")

STATUS_REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently",
    302: "Found", 304: "Not Modified", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
    408: "Request Timeout", 413: "Payload Too Large", 418: "I'm a teapot",
    429: "Too Many Requests", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}


# Malformed responses served verbatim by /raw/<name> (the connection is closed afterwards).
RAW_RESPONSES = {
    "bad-status": b"HTTP/1.1 abc OK\r\ncontent-length: 2\r\n\r\nok",
    "two-cl": b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nokk",
    "garbage": b"\x00\x01garbage\r\n\r\n",
    "bad-header": b"HTTP/1.1 200 OK\r\nx a: b\r\ncontent-length: 2\r\n\r\nok",
}


class Upstream:
    """HTTP/1.1 origin on a free loopback port; listening when start() returns.

    Routes (any method; HEAD gets the GET headers without a body):
      /echo                 200, body = request body; header x-echo-headers = JSON list of the
                            request headers, x-echo-method, x-echo-path (target as received)
      /headers              200, JSON body {method, target, path, headers, body_len}
      /bytes/<n>            n pattern bytes (see pattern_slice); ?chunked=1 for chunked framing,
                            ?chunk=<size> chunk size (default 1 MiB)
      /sha256               200, body = hex SHA-256 of the request body; x-body-length header
      /status/<code>        that status; body "status <code>\n" except 1xx/204/304 (304 carries
                            content-length: 1234 like a cached GET would, and no body)
      /slow/<ms>            waits ms, then 200 "slow\n"
      /slow-read/<ms>       waits ms before reading the request body, then reads it (at
                            ?rate=<bytes/s> when given), then answers like /sha256
      /die-mid-response     headers (content-length 1000000) + 1000 body bytes, then close;
                            ?rst=1 closes with RST; ?chunked=1 uses chunked framing
      /die-before-response  reads the request and closes without answering
      /close                200 "bye\n" with connection: close, then closes
      /raw/<name>           the malformed response RAW_RESPONSES[name], then closes
      /hop                  200 with hop-by-hop headers in the response (keep-alive,
                            proxy-connection, connection: x-upstream-private, x-upstream-private)
      /name                 200, body = this server's name
      anything else         200, body = "ok <method> <target>\n"
    Every request body is read (streamed, hashed) before the response except where noted.
    """

    def __init__(self, name="upstream", port=0, host="127.0.0.1", backlog=4096):
        self.name = name
        self.host = host
        self._want_port = port
        self.backlog = backlog
        self.lock = threading.Lock()
        self.conns = []
        self.requests = []
        self.protocol_errors = []
        self.accept_count = 0  # monotonic, survives reset_stats()
        self._listener = None
        self._accept_thread = None
        self._stopping = False
        self.cond = threading.Condition(self.lock)

    # -- lifecycle --

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self._want_port))
        s.listen(self.backlog)
        self._listener = s
        self.port = s.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name="upstream-%s-accept" % self.name)
        self._accept_thread.start()
        return self

    def stop(self):
        self._stopping = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            if not c.closed:
                try:
                    c.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        if self._accept_thread:
            self._accept_thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()
        return False

    # -- stats --

    @property
    def accepted(self):
        with self.lock:
            return len(self.conns)

    def close_idle(self):
        """Close (FIN) every connection that is not in the middle of a request."""
        with self.lock:
            conns = [c for c in self.conns if not c.closed]
        for c in conns:
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return len(conns)

    def conns_used(self):
        """Connections that carried at least one request since the last reset_stats()."""
        with self.lock:
            return sum(1 for c in self.conns if c.requests)

    def active(self):
        with self.lock:
            return sum(1 for c in self.conns if not c.closed)

    def total_raw_bytes(self):
        with self.lock:
            return sum(c.raw_len for c in self.conns)

    def total_sent(self):
        with self.lock:
            return sum(c.bytes_sent for c in self.conns)

    def reset_stats(self):
        """Forget history (connections already open keep being served)."""
        with self.lock:
            self.conns = [c for c in self.conns if not c.closed]
            for c in self.conns:
                c.requests = []
                c.raw = bytearray()
                c.raw_len = 0
                c.bytes_sent = 0
            self.requests = []
            self.protocol_errors = []

    def snapshot(self):
        """(accepted connections, raw bytes received, requests) now."""
        with self.lock:
            return len(self.conns), sum(c.raw_len for c in self.conns), len(self.requests)

    def wait_requests(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout * SLOW
        with self.cond:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def last_request(self):
        with self.lock:
            return self.requests[-1] if self.requests else None

    def find_request(self, tag, timeout=5.0):
        """The request whose x-test-tag header (or ?tag= query) equals `tag`, waiting a bounded
        time for it to arrive; None when it never did."""
        deadline = time.monotonic() + timeout * SLOW
        with self.cond:
            while True:
                for r in self.requests:
                    if r.header("x-test-tag") == tag or r.query.get("tag") == tag:
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)


    # -- serving --

    def _record(self, conn, data):
        with self.lock:
            conn.raw_len += len(data)
            room = UpstreamConn.RAW_KEEP - len(conn.raw)
            if room > 0:
                conn.raw += data[:room]

    def _accept_loop(self):
        while not self._stopping:
            try:
                sock, peer = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.accept_count += 1
                conn = UpstreamConn(sock, peer, self.accept_count - 1)
                self.conns.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True,
                                 name="upstream-%s-%d" % (self.name, conn.index))
            t.start()

    def _send(self, conn, data):
        conn.sock.sendall(data)
        with self.lock:
            conn.bytes_sent += len(data)

    def _serve(self, conn):
        reader = _Reader(conn, self)
        try:
            while reader.at_start_of_message():
                keep = self._one_request(conn, reader)
                if not keep:
                    break
        except _Closed:
            pass
        except _BadRequest as e:
            with self.lock:
                self.protocol_errors.append("%s conn %d: %s" % (self.name, conn.index, e))
                conn.error = str(e)
            try:
                self._send(conn, b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n"
                                 b"connection: close\r\n\r\n")
            except OSError:
                pass
        except OSError:
            pass
        finally:
            with self.lock:
                conn.closed = True
            try:
                conn.sock.close()
            except OSError:
                pass

    def _read_head(self, reader):
        line = reader.readline()
        while line == b"":  # tolerate empty lines between messages (RFC 9112 2.2)
            line = reader.readline()
        parts = line.split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            raise _BadRequest("bad request line %r" % line[:100])
        method, target, version = (p.decode("latin-1") for p in parts)
        headers = []
        while True:
            h = reader.readline()
            if h == b"":
                break
            if h[:1] in (b" ", b"\t"):
                raise _BadRequest("obs-fold reached the upstream: %r" % h[:80])
            name, sep, value = h.partition(b":")
            if not sep or not _TOKEN.match(name):
                raise _BadRequest("bad header line %r" % h[:80])
            if b"\0" in value or b"\r" in value:
                raise _BadRequest("bad header value %r" % h[:80])
            headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
            if len(headers) > 1000:
                raise _BadRequest("too many headers")
        return UpstreamRequest(method, target, version, headers)

    def _read_body(self, reader, req, rate=None):
        te = req.header_all("transfer-encoding")
        cls = req.header_all("content-length")
        if te and cls:
            raise _BadRequest("both transfer-encoding and content-length reached the upstream")
        if len(cls) > 1:
            raise _BadRequest("several content-length headers reached the upstream")
        if te:
            if len(te) != 1 or te[0].lower() != "chunked":
                raise _BadRequest("transfer-encoding %r reached the upstream" % te)
            req.chunked = True
            while True:
                line = reader.readline()
                size_s = line.split(b";", 1)[0].strip()
                if not re.match(rb"^[0-9A-Fa-f]{1,15}$", size_s):
                    raise _BadRequest("bad chunk size line %r" % line[:80])
                size = int(size_s, 16)
                if size == 0:
                    break
                self._consume(reader, req, size, rate)
                if reader.read_exact(2) != b"\r\n":
                    raise _BadRequest("chunk not followed by CRLF")
            while True:
                t = reader.readline()
                if t == b"":
                    break
                name, _, value = t.partition(b":")
                req.trailers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
        elif cls:
            if not re.match(r"^[0-9]{1,18}$", cls[0]):
                raise _BadRequest("bad content-length %r" % cls[0])
            self._consume(reader, req, int(cls[0]), rate)

    def _consume(self, reader, req, n, rate):
        while n > 0:
            piece = reader.read_some(min(n, 65536 if rate else 1 << 20))
            n -= len(piece)
            req.body_len += len(piece)
            req.body_sha.update(piece)
            room = UpstreamRequest.BODY_KEEP - len(req.body_head)
            if room > 0:
                req.body_head += piece[:room]
            if rate:
                time.sleep(len(piece) / float(rate))

    def _respond(self, conn, status, headers=(), body=b"", head=False, close=False):
        lines = ["HTTP/1.1 %d %s" % (status, STATUS_REASONS.get(status, "Status"))]
        names = {k.lower() for k, _ in headers}
        lines += ["%s: %s" % (k, v) for k, v in headers]
        no_body = status < 200 or status in (204, 304)
        if "content-length" not in names and "transfer-encoding" not in names and not no_body:
            lines.append("content-length: %d" % len(body))
        lines.append("server: outrider-test-upstream")
        if close:
            lines.append("connection: close")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if not head and not no_body:
            data += body
        self._send(conn, data)

    def _one_request(self, conn, reader):
        req = self._read_head(reader)
        head = req.method == "HEAD"
        path = req.path
        parts = path.strip("/").split("/")
        with self.lock:
            conn.requests.append(req)
        expect = (req.header("expect") or "").lower() == "100-continue"
        if expect and not path.startswith("/slow-read"):
            self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")

        if path.startswith("/slow-read/"):
            time.sleep(int(parts[1]) / 1000.0)
            if expect:
                self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
            rate = req.query.get("rate")
            self._read_body(reader, req, rate=int(rate) if rate else None)
        else:
            self._read_body(reader, req)
        with self.cond:
            self.requests.append(req)
            self.cond.notify_all()

        conn_hdr = (req.header("connection") or "").lower()
        close = "close" in conn_hdr or (req.version == "HTTP/1.0" and "keep-alive" not in conn_hdr)

        if path == "/echo":
            hdrs = [("content-type", "application/octet-stream"),
                    ("x-echo-method", req.method), ("x-echo-path", req.target),
                    ("x-echo-headers", json.dumps(req.headers, separators=(",", ":")))]
            self._respond(conn, 200, hdrs, bytes(req.body_head), head=head, close=close)
        elif path == "/headers":
            body = json.dumps(req.to_json()).encode()
            self._respond(conn, 200, [("content-type", "application/json")], body, head=head,
                          close=close)
        elif path == "/name":
            self._respond(conn, 200, [("content-type", "text/plain")], self.name.encode(),
                          head=head, close=close)
        elif parts[0] == "bytes" and len(parts) == 2:
            self._send_bytes(conn, req, int(parts[1]), head, close)
        elif path == "/sha256" or parts[0] == "slow-read":
            self._respond(conn, 200, [("content-type", "text/plain"),
                                      ("x-body-length", str(req.body_len))],
                          req.body_sha256().encode(), head=head, close=close)
        elif parts[0] == "status" and len(parts) == 2:
            code = int(parts[1])
            if code == 304:
                self._respond(conn, 304, [("content-length", "1234"), ("etag", '"abc"')],
                              head=True, close=close)
            else:
                self._respond(conn, code, [("content-type", "text/plain")],
                              ("status %d\n" % code).encode(), head=head, close=close)
        elif parts[0] == "slow" and len(parts) == 2:
            time.sleep(int(parts[1]) / 1000.0)
            self._respond(conn, 200, [("content-type", "text/plain")], b"slow\n", head=head,
                          close=close)
        elif path == "/die-mid-response":
            self._die_mid_response(conn, req)
            return False
        elif path == "/die-before-response":
            if req.query.get("rst") == "1":
                conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
            return False
        elif parts[0] == "raw" and len(parts) == 2 and parts[1] in RAW_RESPONSES:
            self._send(conn, RAW_RESPONSES[parts[1]])
            return False
        elif path == "/close":
            self._respond(conn, 200, [("content-type", "text/plain")], b"bye\n", head=head,
                          close=True)
            return False
        elif path == "/hop":
            hdrs = [("keep-alive", "timeout=5, max=100"), ("proxy-connection", "keep-alive"),
                    ("connection", "x-upstream-private"), ("x-upstream-private", "secret"),
                    ("x-upstream-public", "visible")]
            self._respond(conn, 200, hdrs, b"hop\n", head=head)
        else:
            body = ("ok %s %s\n" % (req.method, req.target)).encode("latin-1")
            self._respond(conn, 200, [("content-type", "text/plain"),
                                      ("x-echo-path", req.target)], body, head=head,
                          close=close)
        return not close

    def _send_bytes(self, conn, req, n, head, close):
        chunked = req.query.get("chunked") == "1"
        chunk = min(int(req.query.get("chunk", str(WINDOW))), WINDOW)
        hdrs = [("content-type", "application/octet-stream"), ("x-sha256", "see pattern")]
        if chunked:
            hdrs.append(("transfer-encoding", "chunked"))
        else:
            hdrs.append(("content-length", str(n)))
        self._respond(conn, 200, hdrs, b"", head=True, close=close)
        if head:
            return
        for piece in pattern_iter(n, chunk):
            if chunked:
                self._send(conn, b"%x\r\n" % len(piece))
                self._send(conn, piece)
                self._send(conn, b"\r\n")
            else:
                self._send(conn, piece)
        if chunked:
            self._send(conn, b"0\r\n\r\n")

    def _die_mid_response(self, conn, req):
        chunked = req.query.get("chunked") == "1"
        if chunked:
            self._send(conn, b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                             b"3e8\r\n" + bytes(pattern_slice(0, 1000)) + b"\r\n")
        else:
            self._send(conn, b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n"
                       + bytes(pattern_slice(0, 1000)))
        time.sleep(0.05)
        if req.query.get("rst") == "1":
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 b"\x01\x00\x00\x00\x00\x00\x00\x00")


# --------------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------------


_TAG_COUNTER = [0]


def new_tag(prefix="t"):
    """A process-unique marker to find a request on the upstream."""
    _TAG_COUNTER[0] += 1
    return "%s-%d-%d" % (prefix, os.getpid(), _TAG_COUNTER[0])


class Response:
    def __init__(self, status, reason, headers, body, version="HTTP/1.1", raw_head=b""):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lower-case name, value)
        self.body = body
        self.version = version
        self.raw_head = raw_head

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def has(self, name):
        return self.header(name) is not None

    def wants_close(self):
        return any("close" in v.lower() for v in self.header_all("connection"))

    def __repr__(self):
        return "<Response %d %s headers=%r body=%r>" % (self.status, self.reason, self.headers,
                                                        self.body[:200])


class IncompleteResponse(Exception):
    pass


def parse_response(buf, head_request=False, eof=False):
    """Parse one HTTP/1.x response from the start of bytes `buf`.

    Returns (Response, consumed) or None when more bytes are needed. With eof=True a response
    delimited by connection close is completed; a truncated response raises IncompleteResponse.
    """
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if eof:
            raise IncompleteResponse("connection closed inside response head: %r" % buf[:300])
        return None
    head = bytes(buf[:end]).decode("latin-1")
    lines = head.split("\r\n")
    m = re.match(r"^(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
    if not m:
        raise IncompleteResponse("bad status line %r" % lines[0])
    status = int(m.group(2))
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip().lower(), v.strip()))
    resp = Response(status, m.group(3) or "", headers, b"", m.group(1), bytes(buf[:end + 4]))
    pos = end + 4
    if head_request or status < 200 or status in (204, 304):
        return resp, pos
    te = resp.header("transfer-encoding")
    cl = resp.header("content-length")
    if te and "chunked" in te.lower():
        body = bytearray()
        while True:
            le = buf.find(b"\r\n", pos)
            if le < 0:
                if eof:
                    raise IncompleteResponse("closed inside chunked body after %d bytes"
                                             % len(body))
                return None
            size = int(bytes(buf[pos:le]).split(b";")[0].strip() or b"x", 16)
            pos = le + 2
            if size == 0:
                tend = buf.find(b"\r\n", pos)
                while tend >= 0 and tend != pos:  # skip trailers
                    pos = tend + 2
                    tend = buf.find(b"\r\n", pos)
                if tend < 0:
                    if eof:
                        raise IncompleteResponse("closed inside chunked trailers")
                    return None
                pos = tend + 2
                resp.body = bytes(body)
                return resp, pos
            if len(buf) < pos + size + 2:
                if eof:
                    raise IncompleteResponse("closed inside chunk after %d bytes"
                                             % (len(body) + len(buf) - pos))
                return None
            body += buf[pos:pos + size]
            pos += size + 2
    if cl is not None:
        n = int(cl)
        if len(buf) < pos + n:
            if eof:
                raise IncompleteResponse("closed after %d of %d body bytes"
                                         % (len(buf) - pos, n))
            return None
        resp.body = bytes(buf[pos:pos + n])
        return resp, pos + n
    if not eof:
        return None
    resp.body = bytes(buf[pos:])
    return resp, len(buf)


class RawConn:
    """A raw TCP client connection for hand-written requests."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0):
        self.timeout = timeout * SLOW
        self.sock = socket.create_connection((host, port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.eof = False
        self.reset = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self, timeout=None):
        self.sock.settimeout(timeout if timeout is not None else self.timeout)
        try:
            data = self.sock.recv(262144)
        except ConnectionResetError:
            self.reset = True
            data = b""
        if not data:
            self.eof = True
        self.buf += data
        return len(data)

    def read_response(self, head_request=False, timeout=None):
        """Next full response; raises socket.timeout / IncompleteResponse."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            r = parse_response(self.buf, head_request, self.eof)
            if r is not None:
                resp, used = r
                del self.buf[:used]
                return resp
            if self.eof:
                raise IncompleteResponse("connection closed before a response: %r"
                                         % bytes(self.buf[:300]))
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no complete response within the bound; have %r"
                                     % bytes(self.buf[:300]))
            self._fill(left)

    def read_until(self, marker, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while marker not in self.buf:
            if self.eof:
                raise IncompleteResponse("closed before %r; have %r" % (marker, bytes(self.buf)))
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("%r not seen; have %r" % (marker, bytes(self.buf[:300])))
            self._fill(left)
        i = self.buf.find(marker) + len(marker)
        data = bytes(self.buf[:i])
        del self.buf[:i]
        return data

    def wait_closed(self, timeout=None):
        """True when the peer closes (FIN or RST) within the bound; leftover bytes stay in buf."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                self._fill(left)
            except socket.timeout:
                return False
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
        return False


def raw_exchange(port, data, timeout=5.0):
    """Send bytes, read until the peer closes or the bound passes. Returns (bytes, closed)."""
    with RawConn(port, timeout=timeout) as c:
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed = c.wait_closed(timeout * SLOW)
        return bytes(c.buf), closed


def http_get(port, path, host="127.0.0.1", timeout=5.0, headers=None):
    """Minimal GET with connection: close; returns (status, headers, body)."""
    hdrs = {"Host": "%s:%d" % (host, port), "Connection": "close"}
    if headers:
        hdrs.update(headers)
    req = "GET %s HTTP/1.1\r\n%s\r\n" % (path, "".join("%s: %s\r\n" % kv for kv in hdrs.items()))
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(req.encode("latin-1"))
        buf = bytearray()
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
            r = parse_response(buf)
            if r is not None:
                break
    finally:
        s.close()
    resp, _ = parse_response(buf, eof=True)
    return resp.status, resp.headers, resp.body


def request(port, method, path, body=None, headers=None, host=None, timeout=10.0):
    """One request on a fresh connection (connection: close); returns Response."""
    hdrs = [("Host", host or "127.0.0.1:%d" % port)]
    extra = headers.items() if isinstance(headers, dict) else (headers or [])
    hdrs.extend(extra)
    if body is not None and not any(k.lower() in ("content-length", "transfer-encoding")
                                    for k, _ in hdrs):
        hdrs.append(("Content-Length", str(len(body))))
    if not any(k.lower() == "connection" for k, _ in hdrs):
        hdrs.append(("Connection", "close"))
    data = ("%s %s HTTP/1.1\r\n" % (method, path)
            + "".join("%s: %s\r\n" % kv for kv in hdrs) + "\r\n").encode("latin-1")
    if body:
        data += body
    with RawConn(port, timeout=timeout) as c:
        c.send(data)
        return c.read_response(head_request=(method == "HEAD"))


class CurlResult:
    def __init__(self, rc, status, headers, body, stderr, all_heads):
        self.rc = rc
        self.status = status
        self.headers = headers
        self.body = body
        self.stderr = stderr
        self.all_heads = all_heads  # every response head curl saw (incl. 100 Continue)

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def __repr__(self):
        return "<curl rc=%d status=%s stderr=%r>" % (self.rc, self.status, self.stderr[-300:])


def curl(url, args=(), timeout=60.0, body_to=None, input_data=None):
    """Run curl (-sS); returns CurlResult with the final response's status/headers/body.
    body_to: a path to write the body to instead of returning it."""
    d = tempfile.mkdtemp(prefix="outrider-curl-")
    try:
        hfile = os.path.join(d, "h")
        bfile = body_to or os.path.join(d, "b")
        cmd = ["curl", "-sS", "--max-time", str(int(timeout * SLOW)), "-D", hfile, "-o", bfile,
               "-w", "%{http_code}"] + list(args) + [url]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           input=input_data, timeout=timeout * SLOW + 10)
        raw = open(hfile, "rb").read().decode("latin-1") if os.path.exists(hfile) else ""
        heads = [h for h in raw.split("\r\n\r\n") if h.strip()]
        headers = []
        if heads:
            for line in heads[-1].split("\r\n")[1:]:
                k, _, v = line.partition(":")
                headers.append((k.strip().lower(), v.strip()))
        body = b""
        if body_to is None and os.path.exists(bfile):
            body = open(bfile, "rb").read()
        try:
            status = int(p.stdout.decode().strip() or "0")
        except ValueError:
            status = 0
        return CurlResult(p.returncode, status, headers, body, p.stderr.decode("latin-1"), heads)
    finally:
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Test runner
# --------------------------------------------------------------------------------------------


class _CountingResult(unittest.TextTestResult):
    def _dump_logs(self):
        for p in list(_LIVE_PROXIES):
            self.stream.write("\n" + p.log_tail(80) + "\n")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._dump_logs()

    def addError(self, test, err):
        super().addError(test, err)
        self._dump_logs()


def main(timeout=170.0):
    """Run the unittest cases of __main__, print 'N passed, M failed' and exit accordingly.
    A watchdog dumps every thread's stack and exits 1 after `timeout` seconds."""
    raise_nofile()
    limit = float(os.environ.get("OR_TEST_TIMEOUT", timeout))
    faulthandler.dump_traceback_later(limit, exit=True)
    if not os.path.exists(OUTRIDER):
        log("proxy binary %s does not exist (set OUTRIDER)" % OUTRIDER)
    loader = unittest.TestLoader()
    argv = sys.argv[1:]
    if argv:
        suite = loader.loadTestsFromNames(argv, sys.modules["__main__"])
    else:
        suite = loader.loadTestsFromModule(sys.modules["__main__"])
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=_CountingResult)
    start = time.monotonic()
    result = runner.run(suite)
    for p in list(_LIVE_PROXIES):
        p.cleanup()
    # Distinct failing tests: sub-tests count once for their test; a failing setUpClass or
    # tearDownClass (an _ErrorHolder, not counted in testsRun) counts as one failure more.
    failed_ids, holders = set(), set()
    for t, _ in result.failures + result.errors:
        if isinstance(t, unittest.TestCase):
            failed_ids.add(getattr(t, "test_case", t).id())
        else:
            holders.add(t.id())
    for t in result.unexpectedSuccesses:
        failed_ids.add(t.id())
    skipped = {t.id() for t, _ in result.skipped} - failed_ids
    failed = len(failed_ids) + len(holders)
    passed = max(0, result.testsRun - len(failed_ids) - len(skipped))
    sys.stdout.write("%s: %.1fs\n" % (os.path.basename(sys.argv[0]), time.monotonic() - start))
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % len(skipped)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    faulthandler.cancel_dump_traceback_later()
    sys.exit(1 if failed or result.testsRun == 0 else 0)


class ProxyTest(unittest.TestCase):
    """Base class: subclasses build `cls.config(...)` in setUpClass via start_proxy()."""

    proxy = None
    upstreams = ()

    @classmethod
    def start_upstreams(cls, *names):
        ups = [Upstream(name=n).start() for n in names]
        cls.upstreams = tuple(cls.upstreams) + tuple(ups)
        return ups

    @classmethod
    def start_proxy(cls, config, **kw):
        cls.proxy = Proxy(config, **kw)
        try:
            cls.proxy.start()
        except Exception:
            cls.proxy.cleanup()
            cls._stop_upstreams()
            raise
        return cls.proxy

    @classmethod
    def _stop_upstreams(cls):
        for u in cls.upstreams:
            u.stop()
        cls.upstreams = ()

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.proxy is not None:
                p = cls.proxy
                cls.proxy = None
                try:
                    p.stop(check=True)
                finally:
                    p.cleanup()
        finally:
            cls._stop_upstreams()

    def assertProxyAlive(self):
        self.assertTrue(self.proxy.alive(), "proxy died\n" + self.proxy.log_tail())

    def assertNoUpstreamProtocolErrors(self):
        for u in self.upstreams:
            self.assertEqual(u.protocol_errors, [], "upstream %s saw malformed requests" % u.name)
