"""Envoy's local replies, byte for byte (issue 2: "Envoy's local replies and details where Envoy
gives them"). Status, body, content-type and content-length as Envoy 1.34 (the App Mesh image
v1.34.x the REFERENCE targets) sends them:

  no route (router.cc: sendLocalReply(NotFound, ""))            404, empty body, content-length 0
  cluster without healthy hosts (sendNoHealthyUpstreamResponse) 503 "no healthy upstream"
  connection refused (Filter::onUpstreamReset)                  503 "upstream connect error or
      disconnect/reset before headers. reset reason: remote connection failure, transport
      failure reason: delayed connect error: Connection refused"
      (Envoy >= 1.31 says "remote connection failure" and strerror() text, PR #35154; older
      releases said "reset reason: connection failure, transport failure reason: delayed connect
      error: 111")
  route timeout (onUpstreamTimeoutAbort)                        504 "upstream request timeout"
  malformed request (http1 codec sendProtocolError)              400 "Bad Request" + close
  headers over max_request_headers_kb (default 60) or over
    100 headers (codec: error_code_ = RequestHeaderFieldsTooLarge) 431 "Request Header Fields Too
                                                                 Large" + close  (not 413)
  request_headers_timeout (onRequestHeaderTimeout)              408 "request header timeout"
  request_timeout (onRequestTimeout)                            408 "request timeout"
  HTTP/1.0 request (accept_http_10 defaults to false)           426 "Upgrade Required" + close
  direct_response                                               its status, body as text/plain
  redirect                                                       301 (default) / response_code,
                                                                 location, empty body
Bodies are text/plain (Utility::prepareHeaders sets it when the body is not empty), and a local
reply carries the server header (server_name, default "envoy"). When the request was complete the
connection stays usable after a local reply; codec errors and timeouts before the request end
close it.
"""

import time

import harness
from harness import (RawConn, bootstrap, direct_route, free_ports, http_listener, route,
                     static_cluster, virtual_host)

CONNECT_FAILURE = ("upstream connect error or disconnect/reset before headers. reset reason: "
                   "remote connection failure, transport failure reason: delayed connect error: "
                   "Connection refused")


class LocalReplies(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        (cls.up,) = cls.start_upstreams("up")
        cls.port, cls.strict_port, cls.tport, cls.small_port, admin = free_ports(5)
        cls.dead_port = harness.closed_port()
        routes = [
            direct_route("/direct", 200, "hello from direct_response\n"),
            direct_route("/teapot", 418),
            {"match": {"prefix": "/redirect"}, "redirect": {"path_redirect": "/new-location"}},
            {"match": {"prefix": "/found"},
             "redirect": {"path_redirect": "/elsewhere", "response_code": "FOUND"}},
            route("/empty", "empty"),
            route("/dead", "dead"),
            route("/timeout/", "up", prefix_rewrite="/slow/", timeout="0.3s"),
            route("/up/", "up", prefix_rewrite="/"),
        ]
        up_only = [route("/", "up")]
        cfg = bootstrap(admin, [
            http_listener("main", cls.port, [virtual_host("all", routes)]),
            http_listener("strict", cls.strict_port,
                          [virtual_host("only", up_only, domains=["only.example"])]),
            http_listener("timeouts", cls.tport, [virtual_host("all", up_only)],
                          request_headers_timeout="0.5s", request_timeout="1.5s"),
            http_listener("small", cls.small_port, [virtual_host("all", up_only)],
                          max_request_headers_kb=8),
        ], [
            static_cluster("up", [cls.up.port]),
            static_cluster("empty", []),
            static_cluster("dead", [cls.dead_port], connect_timeout="2s"),
        ])
        cls.start_proxy(cfg)

    def get(self, path, port=None, host=None):
        return harness.request(port or self.port, "GET", path, host=host)

    def assertLocal(self, r, status, body, content_type="text/plain"):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.body, body.encode())
        self.assertEqual(r.header("content-length"), str(len(body)), r.headers)
        if body:
            self.assertEqual(r.header("content-type"), content_type, r.headers)
        self.assertEqual(r.header("server"), "envoy", r.headers)
        self.assertTrue(r.has("date"), r.headers)

    # ---- router replies ----

    def test_404_no_route(self):
        self.assertLocal(self.get("/nothing/here"), 404, "")

    def test_404_no_virtual_host(self):
        self.assertLocal(self.get("/", port=self.strict_port, host="other.example"), 404, "")
        r = self.get("/name", port=self.strict_port, host="only.example")
        self.assertEqual((r.status, r.body), (200, b"up"))

    def test_503_no_healthy_upstream(self):
        self.assertLocal(self.get("/empty"), 503, "no healthy upstream")
        self.assertEqual(self.up.protocol_errors, [])

    def test_503_connection_refused(self):
        self.assertLocal(self.get("/dead"), 503, CONNECT_FAILURE)

    def test_504_upstream_request_timeout(self):
        t0 = time.monotonic()
        r = self.get("/timeout/3000")
        elapsed = time.monotonic() - t0
        self.assertLocal(r, 504, "upstream request timeout")
        self.assertGreater(elapsed, 0.25)
        self.assertLess(elapsed, 2.5, "route timeout 0.3s answered after %.2fs" % elapsed)

    def test_local_reply_keeps_connection(self):
        with RawConn(self.port) as c:
            for path in ("/nothing", "/empty", "/direct", "/up/name"):
                c.send("GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % path)
                r = c.read_response()
                self.assertFalse(r.wants_close(), (path, r.headers))
            self.assertEqual((r.status, r.body), (200, b"up"))

    # ---- direct responses and redirects ----

    def test_direct_response_with_body(self):
        self.assertLocal(self.get("/direct"), 200, "hello from direct_response\n")

    def test_direct_response_without_body(self):
        self.assertLocal(self.get("/teapot"), 418, "")

    def test_redirect_default_301(self):
        r = self.get("/redirect/old")
        self.assertLocal(r, 301, "")
        self.assertEqual(r.header("location"), "http://127.0.0.1:%d/new-location" % self.port)

    def test_redirect_302(self):
        r = self.get("/found", host="app.example")
        self.assertLocal(r, 302, "")
        self.assertEqual(r.header("location"), "http://app.example/elsewhere")

    # ---- codec errors ----

    def expect_close_reply(self, port, data, status, body, timeout=5.0):
        with RawConn(port, timeout=timeout) as c:
            try:
                c.send(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            r = c.read_response()
            self.assertLocal(r, status, body)
            self.assertTrue(r.wants_close(), "no connection: close: %r" % r.headers)
            self.assertTrue(c.wait_closed(5), "connection left open after %d" % status)
        return r

    def test_400_malformed_header(self):
        before = self.up.snapshot()[1]
        self.expect_close_reply(self.port, b"GET /up/name HTTP/1.1\r\nHost: h\r\n"
                                           b"Bad Header Line\r\n\r\n", 400, "Bad Request")
        self.assertEqual(self.up.snapshot()[1], before, "malformed request reached upstream")

    def test_400_missing_host(self):
        before = self.up.snapshot()[1]
        self.expect_close_reply(self.port, b"GET /up/name HTTP/1.1\r\n\r\n", 400, "Bad Request")
        self.assertEqual(self.up.snapshot()[1], before, "request without host reached upstream")

    def test_400_garbage(self):
        self.expect_close_reply(self.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 4,
                                400, "Bad Request")

    def test_431_header_too_large_default_limit(self):
        big = b"x-big: " + b"a" * (61 * 1024) + b"\r\n"
        self.expect_close_reply(self.port, b"GET /up/name HTTP/1.1\r\nHost: h\r\n" + big
                                + b"\r\n", 431, "Request Header Fields Too Large")

    def test_431_header_too_large_configured_limit(self):
        hdr = b"x-big: " + b"a" * (9 * 1024) + b"\r\n"
        self.expect_close_reply(self.small_port, b"GET / HTTP/1.1\r\nHost: h\r\n" + hdr
                                + b"\r\n", 431, "Request Header Fields Too Large")
        # Just under the limit passes.
        ok = b"x-big: " + b"a" * (6 * 1024) + b"\r\n"
        with RawConn(self.small_port) as c:
            c.send(b"GET /name HTTP/1.1\r\nHost: h\r\n" + ok + b"\r\n")
            self.assertEqual(c.read_response().status, 200)

    def test_431_too_many_headers(self):
        many = b"".join(b"x-h%d: v\r\n" % i for i in range(150))
        self.expect_close_reply(self.port, b"GET /up/name HTTP/1.1\r\nHost: h\r\n" + many
                                + b"\r\n", 431, "Request Header Fields Too Large")

    def test_426_http10_not_accepted(self):
        # http_protocol_options.accept_http_10 defaults to false: Envoy's codec answers HTTP/1.0
        # requests with 426 "Upgrade Required" (ServerConnectionImpl::checkProtocolVersion).
        before = self.up.snapshot()[1]
        self.expect_close_reply(self.port, b"GET /up/name HTTP/1.0\r\nHost: h\r\n\r\n", 426,
                                "Upgrade Required")
        self.assertEqual(self.up.snapshot()[1], before, "HTTP/1.0 request reached upstream")

    # ---- HCM timeouts ----

    def test_408_request_headers_timeout(self):
        t0 = time.monotonic()
        r = self.expect_close_reply(self.tport, b"GET /name HTTP/1.1\r\nHost: h\r\nx-a: b\r\n",
                                    408, "request header timeout")
        elapsed = time.monotonic() - t0
        self.assertGreater(elapsed, 0.4)
        self.assertLess(elapsed, 3.0 * harness.SLOW)
        self.assertEqual(r.status, 408)

    def test_408_request_timeout(self):
        t0 = time.monotonic()
        self.expect_close_reply(self.tport, b"POST /sha256 HTTP/1.1\r\nHost: h\r\n"
                                            b"Content-Length: 10\r\n\r\nabc",
                                408, "request timeout")
        elapsed = time.monotonic() - t0
        self.assertGreater(elapsed, 1.3)
        self.assertLess(elapsed, 4.0 * harness.SLOW)

    def test_timeouts_do_not_fire_on_complete_requests(self):
        with RawConn(self.tport) as c:
            c.send("GET /name HTTP/1.1\r\nHost: h\r\n\r\n")
            self.assertEqual(c.read_response().body, b"up")
            time.sleep(0.8)  # idle between requests is not a header timeout
            c.send("GET /name HTTP/1.1\r\nHost: h\r\n\r\n")
            self.assertEqual(c.read_response().body, b"up")


if __name__ == "__main__":
    harness.main()
