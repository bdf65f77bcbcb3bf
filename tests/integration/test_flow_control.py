"""Flow control by watermarks (issue 2 acceptance: "a slow-reading client with a fast 1 GiB
upstream response keeps proxy RSS under 64 MiB").

* download: the upstream writes a 1 GiB response as fast as it can; the client reads the head,
  stalls 2 s, reads slowly for 2 s, then reads the rest fast and checks length and SHA-256. Proxy
  VmRSS (/proc/<pid>/status) is sampled all along and must stay under 64 MiB; while the client
  stalls, the upstream's sent-byte counter must plateau far below the body size (backpressure
  reached the upstream socket).
* abort: the client resets its connection in the middle of a 1 GiB response; the proxy closes the
  upstream connection (the upstream stops sending) and keeps serving.
* upload: the client pushes a large body while the upstream waits 3 s before reading any of it;
  proxy RSS stays bounded and the client's progress plateaus; then the upload completes with the
  right SHA-256.

Under ASan (OR_SANITIZED=1) the bodies are 256/128 MiB instead of 1 GiB/512 MiB, the proxy runs
with a small allocator quarantine, and the bound applies to RSS growth over the idle baseline
(the sanitizer's shadow memory is not the proxy's buffering).
"""

import hashlib
import os
import socket
import threading
import time

import harness
from harness import (bootstrap, free_ports, http_listener, pattern_sha256, route, static_cluster,
                     virtual_host)

MIB = 1024 * 1024
DOWNLOAD = (256 if harness.SANITIZED else 1024) * MIB
UPLOAD = (128 if harness.SANITIZED else 512) * MIB
RSS_LIMIT_KIB = 64 * 1024


def small_buffer_socket(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    s.settimeout(30 * harness.SLOW)
    s.connect(("127.0.0.1", port))
    return s


def read_head(s):
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise AssertionError("closed before response head: %r" % bytes(buf))
        buf += d
    i = buf.find(b"\r\n\r\n") + 4
    return bytes(buf[:i]), bytes(buf[i:])


class FlowControl(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        (cls.up,) = cls.start_upstreams("up")
        cls.port, admin = free_ports(2)
        cfg = bootstrap(admin, [http_listener("l", cls.port,
                                              [virtual_host("all", [route("/", "up",
                                                                          timeout="0s")])])],
                        [static_cluster("up", [cls.up.port])])
        env = None
        if harness.SANITIZED:
            env = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "")
                   + ":quarantine_size_mb=8:thread_local_quarantine_size_kb=256"}
        cls.start_proxy(cfg, env=env)
        # Warm up both workers and the pools, then take the idle baseline.
        for _ in range(20):
            harness.request(cls.port, "GET", "/bytes/100000")
        time.sleep(0.3)
        cls.baseline = cls.proxy.rss_kib()
        harness.log("idle proxy RSS %d KiB" % cls.baseline)

    def check_rss(self, samples, what):
        peak = max(samples)
        harness.log("%s: proxy RSS peak %d KiB (baseline %d KiB, %d samples)"
                    % (what, peak, self.baseline, len(samples)))
        if harness.SANITIZED:
            self.assertLess(peak - self.baseline, RSS_LIMIT_KIB,
                            "%s: RSS grew by %d KiB" % (what, peak - self.baseline))
        else:
            self.assertLess(peak, RSS_LIMIT_KIB, "%s: RSS reached %d KiB" % (what, peak))

    def test_slow_reader_large_download(self):
        self.up.reset_stats()
        sent0 = self.up.total_sent()
        s = small_buffer_socket(self.port)
        rss = []
        try:
            s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: h\r\n\r\n" % DOWNLOAD)
            head, first = read_head(s)
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
            self.assertIn(b"content-length: %d" % DOWNLOAD, head.lower())
            h = hashlib.sha256(first)
            got = len(first)

            # Stall: read nothing for 2 s.
            plateau = []
            t_end = time.monotonic() + 2.0
            while time.monotonic() < t_end:
                rss.append(self.proxy.rss_kib())
                plateau.append(self.up.total_sent() - sent0)
                time.sleep(0.1)
            stalled_at = plateau[-1]
            harness.log("upstream sent %d bytes while the client stalled" % stalled_at)
            self.assertLess(stalled_at, 64 * MIB,
                            "the upstream kept sending while the client was not reading")
            self.assertLess(plateau[-1] - plateau[-6], MIB,
                            "upstream sends did not plateau: %r" % plateau[-6:])

            # Slow: ~4 MiB/s for 2 s.
            t_end = time.monotonic() + 2.0
            while time.monotonic() < t_end:
                d = s.recv(64 * 1024)
                self.assertTrue(d, "proxy closed the slow connection")
                h.update(d)
                got += len(d)
                rss.append(self.proxy.rss_kib())
                time.sleep(0.016)

            # Fast: the rest.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * MIB)
            buf = bytearray(MIB)
            view = memoryview(buf)
            last_sample = 0
            while got < DOWNLOAD:
                n = s.recv_into(view, min(MIB, DOWNLOAD - got))
                self.assertGreater(n, 0, "closed after %d of %d bytes" % (got, DOWNLOAD))
                h.update(view[:n])
                got += n
                if got - last_sample >= 16 * MIB:
                    rss.append(self.proxy.rss_kib())
                    last_sample = got
        finally:
            s.close()
        self.assertEqual(got, DOWNLOAD)
        self.assertEqual(h.hexdigest(), pattern_sha256(DOWNLOAD))
        self.check_rss(rss, "slow reader, %d MiB download" % (DOWNLOAD // MIB))
        self.assertEqual(harness.request(self.port, "GET", "/name").body, b"up")

    def test_abort_mid_download(self):
        self.up.reset_stats()
        s = small_buffer_socket(self.port)
        try:
            s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: h\r\n\r\n" % DOWNLOAD)
            read_head(s)
            for _ in range(50):
                s.recv(64 * 1024)
        finally:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        # The upstream connection that served it must be closed by the proxy (bounded wait).
        deadline = time.monotonic() + 5 * harness.SLOW
        busy = None
        while time.monotonic() < deadline:
            with self.up.lock:
                busy = [c for c in self.up.conns
                        if any(r.path.startswith("/bytes/%d" % DOWNLOAD) for r in c.requests)]
            if busy and all(c.closed for c in busy):
                break
            time.sleep(0.05)
        self.assertTrue(busy, "request never reached the upstream")
        self.assertTrue(all(c.closed for c in busy),
                        "upstream connection still open/sending after the client reset")
        self.assertLess(self.up.total_sent(), DOWNLOAD // 2)
        self.assertEqual(harness.request(self.port, "GET", "/name").body, b"up")
        self.assertProxyAlive()

    def test_slow_upstream_reader_large_upload(self):
        self.up.reset_stats()
        s = small_buffer_socket(self.port)
        progress = [0]
        errors = []

        def push():
            try:
                s.sendall(b"POST /slow-read/3000 HTTP/1.1\r\nHost: h\r\n"
                          b"Content-Length: %d\r\n\r\n" % UPLOAD)
                for piece in harness.pattern_iter(UPLOAD):
                    s.sendall(piece)
                    progress[0] += len(piece)
            except OSError as e:
                errors.append(e)

        t = threading.Thread(target=push, daemon=True)
        t.start()
        rss = []
        sent = []
        t_end = time.monotonic() + 2.5
        while time.monotonic() < t_end:
            rss.append(self.proxy.rss_kib())
            sent.append(progress[0])
            time.sleep(0.1)
        harness.log("client pushed %d bytes while the upstream was not reading" % sent[-1])
        self.assertLess(sent[-1], 64 * MIB, "the proxy kept accepting body bytes")
        self.assertLess(sent[-1] - sent[-6], 2 * MIB, "client progress did not plateau")
        t.join(timeout=60 * harness.SLOW)
        self.assertFalse(t.is_alive(), "upload did not finish once the upstream read")
        self.assertEqual(errors, [])
        try:
            head, rest = read_head(s)
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
            while len(rest) < 64:
                d = s.recv(4096)
                if not d:
                    break
                rest += d
        finally:
            s.close()
        self.assertEqual(rest[:64].decode(), pattern_sha256(UPLOAD))
        self.check_rss(rss, "slow upstream reader, %d MiB upload" % (UPLOAD // MIB))


if __name__ == "__main__":
    harness.main()
