#!/usr/bin/env python3
"""Chunked requests with trailers reach the upstream whole, including when the last chunk and the
trailers arrive in a later packet on a warm (pooled) upstream connection — the router must see the
request trailers even though it stopped the filter chain on the headers."""

import hashlib
import time

import harness
from harness import RawConn, bootstrap, free_ports, http_listener, route, static_cluster, virtual_host


class Trailers(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        (cls.up,) = cls.start_upstreams("up")
        cls.port, admin = free_ports(2)
        cfg = bootstrap(admin, [http_listener("l", cls.port,
                                              [virtual_host("all", [route("/", "up")])])],
                        [static_cluster("up", [cls.up.port])])
        cls.start_proxy(cfg)

    def wait_upstream_bytes(self, n, timeout=5.0):
        """Readiness signal: the upstream has received at least n raw bytes."""
        deadline = time.monotonic() + timeout * harness.SLOW
        while self.up.total_raw_bytes() < n and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.up.total_raw_bytes() >= n

    def test_trailers_in_one_packet(self):
        with RawConn(self.port, timeout=5.0) as c:
            c.send("POST /sha256 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body.strip().decode(), hashlib.sha256(b"hello").hexdigest())

    def test_trailers_in_a_later_packet_on_a_warm_connection(self):
        with RawConn(self.port, timeout=5.0) as c:
            c.send("GET /name HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(c.read_response().status, 200)
            before = self.up.total_raw_bytes()
            c.send("POST /sha256 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n")
            self.assertTrue(self.wait_upstream_bytes(before + 1), "head never reached upstream")
            c.send("0\r\nx-checksum: abc\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body.strip().decode(), hashlib.sha256(b"hello").hexdigest())


if __name__ == "__main__":
    harness.main(timeout=60)
