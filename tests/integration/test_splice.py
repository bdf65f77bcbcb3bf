#!/usr/bin/env python3
"""Zero-copy response bodies (issue 4, "no copies of body bytes"): a Content-Length response body
with at least 256 KiB left after the first read moves from the upstream socket to the client's
with splice(2); the last bytes take the normal path so the message ends as always.

* bodies around the threshold (64 KiB, 256 KiB - 1, 256 KiB, 256 KiB + 1, 1 MiB + 7, 8 MiB) arrive
  whole (SHA-256), the proxy's trace log shows the splice path was taken for the large ones and
  never below the threshold;
* the client connection is reused after a spliced response (keep-alive), answers stay in order;
* a slow client reads an 8 MiB spliced body (the pipe waits for the socket to drain);
* an upstream that dies in the middle of a spliced body: the client sees the connection end
  before the announced length, and the proxy keeps serving;
* the client resets or stalls in the middle of a spliced body, and the proxy shuts down with a
  stalled spliced body in its pipe: it keeps serving / exits cleanly (the ASan build checks leaks);
* %BYTES_SENT% in the access log and http.<prefix>.downstream_cx_tx_bytes_total count the
  spliced bytes.
"""

import hashlib
import json
import os
import re
import socket
import tempfile
import threading
import time
import unittest

import harness
from harness import (RawConn, bootstrap, free_ports, http_listener, route, static_cluster,
                     virtual_host)

FILE_LOG = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"
SPLICE_LINE = re.compile(r"splicing (\d+) response body bytes")
KIB = 1024
MIB = 1024 * 1024


class DyingUpstream:
    """Answers every request with a 4 MiB Content-Length body, sends `cut` bytes of it, closes."""

    def __init__(self, cut):
        self.cut = cut
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
            c.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % (4 * MIB))
            c.sendall(bytes(harness.pattern_bytes(self.cut)))
            time.sleep(0.05)
        except OSError:
            pass
        finally:
            c.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


def read_body(conn, n, chunk=262144, delay=0.0):
    """Reads exactly n body bytes from a RawConn after its head; returns their SHA-256."""
    h = hashlib.sha256()
    have = bytes(conn.buf[:n])
    del conn.buf[:len(have)]
    h.update(have)
    got = len(have)
    conn.sock.settimeout(conn.timeout)
    while got < n:
        d = conn.sock.recv(min(chunk, n - got))
        if not d:
            raise AssertionError("closed after %d of %d body bytes" % (got, n))
        h.update(d)
        got += len(d)
        if delay:
            time.sleep(delay)
    return h.hexdigest()


def splice_count(proxy):
    return len(SPLICE_LINE.findall(proxy.log_text()))


class Splice(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        (cls.up,) = cls.start_upstreams("up")
        cls.dying = DyingUpstream(cut=2 * MIB + 123)
        cls.port, admin = free_ports(2)
        vh = virtual_host("all", [route("/die", "dying"), route("/", "up")])
        cfg = bootstrap(admin, [http_listener("l", cls.port, [vh])],
                        [static_cluster("up", [cls.up.port]),
                         static_cluster("dying", [cls.dying.port])])
        cls.start_proxy(cfg, log_level="trace", concurrency=1)

    @classmethod
    def tearDownClass(cls):
        cls.dying.stop()
        super().tearDownClass()

    def get(self, conn, n, delay=0.0, chunk=262144):
        conn.send("GET /bytes/%d HTTP/1.1\r\nHost: h\r\n\r\n" % n)
        head = conn.read_until(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        self.assertIn(b"content-length: %d\r\n" % n, head.lower())
        return read_body(conn, n, chunk=chunk, delay=delay)

    def test_sizes_around_threshold(self):
        for n in (64 * KIB, 256 * KIB - 1, 256 * KIB, 256 * KIB + 1, MIB + 7, 8 * MIB):
            before = splice_count(self.proxy)
            with RawConn(self.port) as c:
                self.assertEqual(self.get(c, n), harness.pattern_sha256(n), "size %d" % n)
            if n < 256 * KIB:
                # Below the threshold the body always takes the normal path.
                self.assertEqual(splice_count(self.proxy), before, "size %d spliced" % n)
            if n >= MIB:
                # The first wake-up reads the head and at most 64 KiB: the rest is spliced.
                self.assertGreater(self.wait_count(before + 1), before, "size %d not spliced" % n)
        self.assertProxyAlive()

    def wait_count(self, want, timeout=5.0):
        deadline = time.monotonic() + timeout * harness.SLOW
        while True:
            n = splice_count(self.proxy)
            if n >= want or time.monotonic() > deadline:
                return n
            time.sleep(0.02)

    def test_keepalive_after_splice(self):
        with RawConn(self.port) as c:
            for n in (MIB + 7, 100, 3 * MIB, 32 * KIB + 1, 5):
                self.assertEqual(self.get(c, n), harness.pattern_sha256(n), "size %d" % n)
            c.send("GET /name HTTP/1.1\r\nHost: h\r\n\r\n")
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b"up"))
        # Pipelined: the second request waits behind a spliced response.
        with RawConn(self.port) as c:
            c.send("GET /bytes/%d HTTP/1.1\r\nHost: h\r\n\r\nGET /name HTTP/1.1\r\nHost: h\r\n\r\n"
                   % (2 * MIB + 1))
            head = c.read_until(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
            self.assertEqual(read_body(c, 2 * MIB + 1), harness.pattern_sha256(2 * MIB + 1))
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b"up"))

    def test_slow_client(self):
        before = splice_count(self.proxy)
        with RawConn(self.port, timeout=60) as c:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * KIB)
            n = 8 * MIB
            self.assertEqual(self.get(c, n, delay=0.001, chunk=16 * KIB),
                             harness.pattern_sha256(n))
        self.assertGreater(self.wait_count(before + 1), before)
        self.assertProxyAlive()

    def test_upstream_dies_mid_splice(self):
        before = splice_count(self.proxy)
        for _ in range(3):
            with RawConn(self.port, timeout=10) as c:
                c.send("GET /die HTTP/1.1\r\nHost: h\r\n\r\n")
                head = c.read_until(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
                self.assertIn(b"content-length: %d" % (4 * MIB), head.lower())
                self.assertTrue(c.wait_closed(10), "connection not closed after upstream death")
                self.assertEqual(len(c.buf), self.dying.cut)
                self.assertEqual(hashlib.sha256(bytes(c.buf)).hexdigest(),
                                 harness.pattern_sha256(self.dying.cut))
        self.assertGreaterEqual(self.wait_count(before + 3), before + 3)
        for _ in range(3):
            r = harness.request(self.port, "GET", "/name")
            self.assertEqual((r.status, r.body), (200, b"up"))
        self.assertProxyAlive()


class SpliceInterrupted(harness.ProxyTest):
    def setUp(self):
        (self.up,) = self.start_upstreams("up")
        self.port, admin = free_ports(2)
        cfg = bootstrap(admin, [http_listener("l", self.port,
                                              [virtual_host("all", [route("/", "up")])])],
                        [static_cluster("up", [self.up.port])])
        self.start_proxy(cfg, log_level="trace", concurrency=1, args=["--drain-time-s", "1"])

    def tearDown(self):
        type(self).tearDownClass()

    @classmethod
    def setUpClass(cls):
        pass

    def stalled_download(self, n=64 * MIB):
        c = RawConn(self.port, timeout=20)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * KIB)
        c.send("GET /bytes/%d HTTP/1.1\r\nHost: h\r\n\r\n" % n)
        c.read_until(b"\r\n\r\n")
        got = len(c.buf)
        while got < MIB:
            got += c._fill()
        deadline = time.monotonic() + 5 * harness.SLOW
        while splice_count(self.proxy) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertGreater(splice_count(self.proxy), 0)
        return c

    def test_client_reset_mid_splice(self):
        for _ in range(3):
            c = self.stalled_download()
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                              b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()
        for _ in range(3):
            r = harness.request(self.port, "GET", "/name")
            self.assertEqual((r.status, r.body), (200, b"up"))
        self.assertProxyAlive()

    def test_shutdown_with_stalled_splice(self):
        c = self.stalled_download()
        try:
            # Stops after the drain time with bytes still in the pipe; the ASan build's leak
            # check runs at exit (tearDown checks a clean exit).
            self.proxy.proc.send_signal(15)
            self.assertEqual(self.proxy.proc.wait(timeout=20), 0)
            self.assertTrue(c.wait_closed(10))
        finally:
            c.close()


def stat_value(text, name):
    m = re.search(r"^%s: (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


class SpliceAccounting(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        (cls.up,) = cls.start_upstreams("up")
        cls.dir = tempfile.mkdtemp(prefix="outrider-splice-")
        cls.log_path = os.path.join(cls.dir, "access.json")
        cls.port, cls.admin = free_ports(2)
        logs = [{"name": "envoy.access_loggers.file",
                 "typed_config": {"@type": FILE_LOG, "path": cls.log_path,
                                  "log_format": {"json_format": {
                                      "path": "%REQ(:PATH)%", "tx": "%BYTES_SENT%",
                                      "code": "%RESPONSE_CODE%"}}}}]
        cfg = bootstrap(cls.admin, [http_listener("l", cls.port,
                                                  [virtual_host("all", [route("/", "up")])],
                                                  access_log=logs)],
                        [static_cluster("up", [cls.up.port])])
        cls.start_proxy(cfg, log_level="trace", concurrency=1,
                        args=["--file-flush-interval-msec", "50"])

    def stats(self):
        status, _, body = harness.http_get(self.admin, "/stats")
        self.assertEqual(status, 200)
        return body.decode()

    def test_bytes_counted(self):
        sizes = (MIB + 7, 64 * KIB, 5 * MIB + 3)
        received = 0
        with RawConn(self.port) as c:
            for n in sizes:
                c.send("GET /bytes/%d HTTP/1.1\r\nHost: h\r\n\r\n" % n)
                head = c.read_until(b"\r\n\r\n")
                received += len(head) + n
                self.assertEqual(read_body(c, n), harness.pattern_sha256(n))
        self.assertGreaterEqual(splice_count(self.proxy), 2)
        # Access log: one line per request, %BYTES_SENT% is the body length.
        deadline = time.monotonic() + 10 * harness.SLOW
        lines = []
        while time.monotonic() < deadline:
            if os.path.exists(self.log_path):
                with open(self.log_path) as f:
                    lines = [json.loads(l) for l in f.read().splitlines() if l]
            if len(lines) >= len(sizes):
                break
            time.sleep(0.05)
        self.assertEqual([(j["path"], j["tx"]) for j in lines],
                         [("/bytes/%d" % n, n) for n in sizes])
        # Connection counters are added when the connection closes: wait for it.
        deadline = time.monotonic() + 10 * harness.SLOW
        while True:
            text = self.stats()
            tx = stat_value(text, "http.l.downstream_cx_tx_bytes_total")
            if tx == received or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(tx, received)


if __name__ == "__main__":
    unittest.main()
