"""Upstream failures (issue 2 acceptance: "upstream killed mid-response gives the client a clean
reset/close and the proxy keeps serving").

* upstream dies after the response head and 1000 of 1,000,000 body bytes (FIN, RST, and chunked
  variants): curl fails promptly (exit 18 "partial file" / 56 "recv failure", never a hang or
  exit 0) and a raw client sees the connection end before the announced length; then the proxy
  answers the next requests.
* upstream closes before sending any response (FIN or RST): Envoy's 503 "upstream connect error
  or disconnect/reset before headers. reset reason: connection termination".
* upstream sends a malformed response head (bad status line, two different content-lengths,
  garbage, a space in a header name): Envoy's 502 "... reset reason: protocol error".
* upstream answers with connection: close, or closes its idle keep-alive connections: the
  following requests still succeed (no stale pooled connection is used).
* the client goes away mid-request: the proxy closes the upstream connection and keeps serving.
"""

import time

import harness
from harness import (RawConn, bootstrap, curl, free_ports, http_listener, route, static_cluster,
                     virtual_host)

PROTOCOL_ERROR = ("upstream connect error or disconnect/reset before headers. reset reason: "
                  "protocol error")
TERMINATION = ("upstream connect error or disconnect/reset before headers. reset reason: "
               "connection termination")


class UpstreamFailure(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        (cls.up,) = cls.start_upstreams("up")
        cls.port, admin = free_ports(2)
        cfg = bootstrap(admin, [http_listener("l", cls.port,
                                              [virtual_host("all", [route("/", "up")])])],
                        [static_cluster("up", [cls.up.port])])
        cls.start_proxy(cfg)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def assertServing(self):
        for _ in range(3):
            r = harness.request(self.port, "GET", "/name")
            self.assertEqual((r.status, r.body), (200, b"up"))
        self.assertProxyAlive()

    def check_curl_fails_fast(self, path):
        t0 = time.monotonic()
        r = curl(self.url(path), timeout=20)
        elapsed = time.monotonic() - t0
        self.assertIn(r.rc, (18, 52, 56), "curl should see a broken transfer: %r" % r)
        self.assertLess(elapsed, 10 * harness.SLOW, "client hung %.1fs" % elapsed)
        self.assertLessEqual(len(r.body), 1000)
        self.assertServing()

    def test_die_mid_response_fin(self):
        self.check_curl_fails_fast("/die-mid-response")

    def test_die_mid_response_rst(self):
        self.check_curl_fails_fast("/die-mid-response?rst=1")

    def test_die_mid_response_chunked(self):
        self.check_curl_fails_fast("/die-mid-response?chunked=1")

    def test_die_mid_response_raw_client(self):
        with RawConn(self.port) as c:
            c.send("GET /die-mid-response HTTP/1.1\r\nHost: h\r\n\r\n")
            head = c.read_until(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
            self.assertIn(b"content-length: 1000000", head.lower())
            self.assertTrue(c.wait_closed(5), "connection not closed after upstream death")
            self.assertLessEqual(len(c.buf), 1000)
            self.assertEqual(bytes(c.buf), bytes(harness.pattern_slice(0, len(c.buf))))
        self.assertServing()

    def test_close_before_response_fin(self):
        r = harness.request(self.port, "GET", "/die-before-response")
        self.assertEqual((r.status, r.body.decode()), (503, TERMINATION))
        self.assertEqual(r.header("content-type"), "text/plain")
        self.assertServing()

    def test_close_before_response_rst(self):
        r = harness.request(self.port, "GET", "/die-before-response?rst=1")
        self.assertEqual((r.status, r.body.decode()), (503, TERMINATION))
        self.assertServing()

    def test_malformed_upstream_response(self):
        # An upstream codec error is a protocol error reset: 502 since Envoy 1.18 (router.cc
        # onUpstreamReset, PR #15033 return_502_for_upstream_protocol_errors).
        for name in sorted(harness.RAW_RESPONSES):
            with self.subTest(response=name):
                r = harness.request(self.port, "GET", "/raw/" + name)
                self.assertEqual((r.status, r.body.decode()), (502, PROTOCOL_ERROR), name)
                self.assertEqual(r.header("content-type"), "text/plain")
        self.assertServing()

    def test_upstream_connection_close_responses(self):
        with RawConn(self.port) as c:
            for i in range(20):
                c.send("GET /close HTTP/1.1\r\nHost: h\r\n\r\n")
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, b"bye\n"), "request %d" % i)
                c.send("GET /name HTTP/1.1\r\nHost: h\r\n\r\n")
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, b"up"), "request %d" % i)

    def test_upstream_closes_idle_connections(self):
        for _ in range(4):
            self.assertEqual(harness.request(self.port, "GET", "/name").status, 200)
        for _ in range(3):
            self.up.close_idle()
            time.sleep(0.3)  # the FIN must reach the proxy; there is no signal to wait on
            for _ in range(4):
                r = harness.request(self.port, "GET", "/name")
                self.assertEqual((r.status, r.body), (200, b"up"), r)

    def test_client_disconnects_mid_request(self):
        self.up.reset_stats()
        with RawConn(self.port) as c:
            c.send("GET /slow/1500?tag=gone HTTP/1.1\r\nHost: h\r\n\r\n")
            self.assertIsNotNone(self.up.find_request("gone"))
        deadline = time.monotonic() + 5 * harness.SLOW
        conn = None
        while time.monotonic() < deadline:
            with self.up.lock:
                conn = next(c for c in self.up.conns
                            if any(r.query.get("tag") == "gone" for r in c.requests))
            if conn.closed:
                break
            time.sleep(0.05)
        # Envoy resets the upstream stream, which closes an HTTP/1 connection. The upstream
        # notices when it writes its late answer at 1.5 s at the latest.
        self.assertTrue(conn.closed, "upstream connection kept after the client left")
        self.assertServing()


if __name__ == "__main__":
    harness.main()
