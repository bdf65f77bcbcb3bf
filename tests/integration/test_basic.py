"""Basic HTTP/1.1 proxying (issue 2, data path): GET/POST/PUT through curl; content-length and
chunked request and response bodies; HEAD, 204 and 304 without bodies; hop-by-hop headers not
forwarded; x-forwarded-for / x-forwarded-proto / x-request-id on the upstream request;
x-envoy-upstream-service-time and the server header on the response; Expect: 100-continue (curl
and raw); prefix_rewrite and Host preservation.

Envoy facts relied on (source/common/http/conn_manager_utility.cc, router.cc, http1/codec_impl.cc):
* connection, keep-alive, proxy-connection, transfer-encoding, upgrade (non-upgrade requests) and
  te (except "trailers") are removed from the request; connection, keep-alive, proxy-connection
  and transfer-encoding from the response; the HTTP/1 codec re-frames bodies itself.
* x-forwarded-for gets the peer address appended (comma, no space) only with use_remote_address.
* x-forwarded-proto is set to the downstream scheme ("http").
* x-request-id: a UUID4 is generated when absent (generate_request_id defaults to true) and an
  existing one is kept for non-edge requests.
* the router adds x-envoy-expected-rq-timeout-ms (route timeout, default 15 s) upstream and
  x-envoy-upstream-service-time downstream.
* the server header is overwritten with server_name, default "envoy".
* Expect: 100-continue is answered by the proxy itself ("HTTP/1.1 100 Continue") and the expect
  header is not forwarded (proxy_100_continue defaults to false).
"""

import os
import re

import harness
from harness import (RawConn, bootstrap, curl, free_ports, http_listener, new_tag, pattern_bytes,
                     pattern_sha256, route, static_cluster, virtual_host)

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class Basic(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        (cls.up,) = cls.start_upstreams("up")
        cls.port, cls.edge_port, cls.named_port, admin = free_ports(4)
        vh = virtual_host("all", [route("/app/", "up", prefix_rewrite="/"), route("/", "up")])
        cfg = bootstrap(admin, [
            http_listener("basic", cls.port, [vh]),
            http_listener("edge", cls.edge_port, [vh], use_remote_address=True),
            http_listener("named", cls.named_port, [vh], server_name="outrider-test"),
        ], [static_cluster("up", [cls.up.port])])
        cls.start_proxy(cfg)
        cls.tmp = cls.proxy.workdir

    def url(self, path, port=None):
        return "http://127.0.0.1:%d%s" % (port or self.port, path)

    def upstream_request(self, tag):
        r = self.up.find_request(tag)
        self.assertIsNotNone(r, "request %s never reached the upstream" % tag)
        return r

    # ---- methods and bodies through curl ----

    def test_get_curl(self):
        tag = new_tag()
        r = curl(self.url("/headers?tag=" + tag))
        self.assertEqual((r.rc, r.status), (0, 200), r)
        u = self.upstream_request(tag)
        self.assertEqual(u.method, "GET")
        self.assertEqual(u.target, "/headers?tag=" + tag)
        self.assertEqual(u.body_len, 0)
        self.assertIn(b'"method": "GET"', r.body)

    def test_post_content_length_curl(self):
        path = harness.write_pattern_file(os.path.join(self.tmp, "post.bin"), 100 * 1024 + 7)
        tag = new_tag()
        r = curl(self.url("/sha256?tag=" + tag), ["--data-binary", "@" + path,
                                                  "-H", "Expect:"])
        self.assertEqual((r.rc, r.status), (0, 200), r)
        self.assertEqual(r.body.decode(), pattern_sha256(100 * 1024 + 7))
        u = self.upstream_request(tag)
        self.assertEqual(u.method, "POST")
        self.assertEqual(u.header("content-length"), str(100 * 1024 + 7))
        self.assertFalse(u.has("transfer-encoding"), u.headers)

    def test_put_chunked_curl(self):
        n = 300 * 1024 + 3
        path = harness.write_pattern_file(os.path.join(self.tmp, "put.bin"), n)
        tag = new_tag()
        r = curl(self.url("/sha256?tag=" + tag),
                 ["-T", path, "-H", "Transfer-Encoding: chunked", "-H", "Expect:"])
        self.assertEqual((r.rc, r.status), (0, 200), r)
        self.assertEqual(r.body.decode(), pattern_sha256(n))
        u = self.upstream_request(tag)
        self.assertEqual(u.method, "PUT")
        self.assertEqual(u.body_len, n)
        # No content-length was known, so the upstream request is chunked again by the codec.
        self.assertTrue(u.chunked, u.headers)
        self.assertFalse(u.has("content-length"), u.headers)

    def test_chunked_request_raw_with_extensions_and_trailers(self):
        tag = new_tag()
        with RawConn(self.port) as c:
            c.send("POST /echo HTTP/1.1\r\nHost: h\r\nx-test-tag: %s\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n"
                   "5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n" % tag)
            r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello world")
        self.assertEqual(self.upstream_request(tag).body_len, 11)

    def test_response_content_length(self):
        with RawConn(self.port) as c:
            c.send("GET /bytes/300000 HTTP/1.1\r\nHost: h\r\n\r\n")
            r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-length"), "300000")
        self.assertIsNone(r.header("transfer-encoding"))
        self.assertEqual(r.body, pattern_bytes(300000))

    def test_response_chunked(self):
        with RawConn(self.port) as c:
            c.send("GET /bytes/300001?chunked=1&chunk=7000 HTTP/1.1\r\nHost: h\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("transfer-encoding"), "chunked")
            self.assertIsNone(r.header("content-length"))
            self.assertEqual(r.body, pattern_bytes(300001))
            # The connection stays usable after a chunked response.
            c.send("GET /name HTTP/1.1\r\nHost: h\r\n\r\n")
            self.assertEqual(c.read_response().body, b"up")
        r = curl(self.url("/bytes/123457?chunked=1"))
        self.assertEqual((r.rc, r.body), (0, pattern_bytes(123457)))

    # ---- responses without bodies ----

    def test_head(self):
        with RawConn(self.port) as c:
            c.send("HEAD /bytes/5000 HTTP/1.1\r\nHost: h\r\n\r\n")
            r = c.read_response(head_request=True)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("content-length"), "5000")
            c.send("GET /name HTTP/1.1\r\nHost: h\r\n\r\n")
            r = c.read_response()
            # If the proxy had sent a body for HEAD, this read would return pattern bytes.
            self.assertEqual((r.status, r.body), (200, b"up"))
        r = curl(self.url("/bytes/5000"), ["-I"])
        self.assertEqual((r.rc, r.status, r.header("content-length")), (0, 200, "5000"))

    def test_204_and_304(self):
        with RawConn(self.port) as c:
            c.send("GET /status/204 HTTP/1.1\r\nHost: h\r\n\r\n")
            r = c.read_response()
            self.assertEqual((r.status, r.body), (204, b""))
            self.assertIsNone(r.header("transfer-encoding"))
            c.send("GET /status/304 HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"abc\"\r\n\r\n")
            r = c.read_response()
            self.assertEqual((r.status, r.body), (304, b""))
            self.assertIsNone(r.header("transfer-encoding"))
            c.send("GET /name HTTP/1.1\r\nHost: h\r\n\r\n")
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b"up"), "stray body bytes after 204/304")

    # ---- header handling ----

    def test_hop_by_hop_request_headers_removed(self):
        tag = new_tag()
        with RawConn(self.port) as c:
            c.send("GET /headers HTTP/1.1\r\nHost: h\r\nx-test-tag: %s\r\n"
                   "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
                   "Proxy-Connection: keep-alive\r\nTE: gzip\r\nUpgrade: websocket\r\n"
                   "x-custom: kept\r\n\r\n" % tag)
            self.assertEqual(c.read_response().status, 200)
        u = self.upstream_request(tag)
        for h in ("keep-alive", "proxy-connection", "te", "upgrade", "transfer-encoding"):
            self.assertFalse(u.has(h), "%s forwarded: %r" % (h, u.headers))
        for v in u.header_all("connection"):
            self.assertIn(v.lower(), ("close", "keep-alive"), u.headers)
        self.assertEqual(u.header("x-custom"), "kept")

    def test_hop_by_hop_response_headers_removed(self):
        with RawConn(self.port) as c:
            c.send("GET /hop HTTP/1.1\r\nHost: h\r\n\r\n")
            r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertFalse(r.has("keep-alive"), r.headers)
        self.assertFalse(r.has("proxy-connection"), r.headers)
        self.assertNotIn("x-upstream-private", [v.lower() for v in r.header_all("connection")])
        self.assertFalse(r.has("x-upstream-private"), r.headers)  # named in Connection
        self.assertEqual(r.header("x-upstream-public"), "visible")

    def test_connection_named_request_headers(self):
        # Headers the Connection header names are hop-by-hop, except what the proxy relies on;
        # TE survives as "trailers" only.
        tag = new_tag()
        with RawConn(self.port) as c:
            c.send("GET /headers HTTP/1.1\r\nHost: h\r\nx-test-tag: %s\r\n"
                   "Connection: keep-alive, X-Drop-Me ,x-also-dropped, Host, x-request-id\r\n"
                   "X-Drop-Me: 1\r\nx-also-dropped: 2\r\nX-Drop-Me: 3\r\n"
                   "x-request-id: 7b3f1c0e-1111-4222-8333-944455556666\r\n"
                   "TE: trailers\r\nx-custom: kept\r\n\r\n" % tag)
            self.assertEqual(c.read_response().status, 200)
        u = self.upstream_request(tag)
        for h in ("x-drop-me", "x-also-dropped", "keep-alive"):
            self.assertFalse(u.has(h), "%s forwarded: %r" % (h, u.headers))
        self.assertEqual(u.header("host"), "h")
        self.assertTrue(u.has("x-request-id"), u.headers)
        self.assertEqual(u.header("te"), "trailers")
        self.assertEqual(u.header("x-custom"), "kept")

    def test_x_forwarded_for_edge(self):
        tag = new_tag()
        harness.request(self.edge_port, "GET", "/headers", headers={"x-test-tag": tag})
        self.assertEqual(self.upstream_request(tag).header("x-forwarded-for"), "127.0.0.1")
        tag = new_tag()
        harness.request(self.edge_port, "GET", "/headers",
                        headers={"x-test-tag": tag, "X-Forwarded-For": "203.0.113.7"})
        self.assertEqual(self.upstream_request(tag).header("x-forwarded-for"),
                         "203.0.113.7,127.0.0.1")

    def test_x_forwarded_for_not_appended_without_use_remote_address(self):
        tag = new_tag()
        harness.request(self.port, "GET", "/headers",
                        headers={"x-test-tag": tag, "X-Forwarded-For": "203.0.113.7"})
        self.assertEqual(self.upstream_request(tag).header_all("x-forwarded-for"),
                         ["203.0.113.7"])

    def test_x_forwarded_proto(self):
        for port in (self.port, self.edge_port):
            tag = new_tag()
            harness.request(port, "GET", "/headers", headers={"x-test-tag": tag})
            self.assertEqual(self.upstream_request(tag).header("x-forwarded-proto"), "http")

    def test_x_request_id_generated(self):
        ids = set()
        for _ in range(3):
            tag = new_tag()
            harness.request(self.port, "GET", "/headers", headers={"x-test-tag": tag})
            rid = self.upstream_request(tag).header("x-request-id")
            self.assertIsNotNone(rid, "no x-request-id generated")
            self.assertRegex(rid, UUID4)
            ids.add(rid)
        self.assertEqual(len(ids), 3, "x-request-id not unique: %r" % ids)

    def test_x_request_id_kept(self):
        tag = new_tag()
        harness.request(self.port, "GET", "/headers",
                        headers={"x-test-tag": tag, "X-Request-Id": "my-request-id-123"})
        self.assertEqual(self.upstream_request(tag).header_all("x-request-id"),
                         ["my-request-id-123"])

    def test_upstream_service_time(self):
        r = harness.request(self.port, "GET", "/name")
        self.assertEqual(r.status, 200)
        self.assertRegex(r.header("x-envoy-upstream-service-time") or "", r"^\d+$", r.headers)

    def test_expected_rq_timeout_header(self):
        tag = new_tag()
        harness.request(self.port, "GET", "/headers", headers={"x-test-tag": tag})
        self.assertEqual(self.upstream_request(tag).header("x-envoy-expected-rq-timeout-ms"),
                         "15000")

    def test_server_header(self):
        r = harness.request(self.port, "GET", "/name")
        self.assertEqual(r.header_all("server"), ["envoy"])
        r = harness.request(self.named_port, "GET", "/name")
        self.assertEqual(r.header_all("server"), ["outrider-test"])

    def test_host_and_path_preserved(self):
        tag = new_tag()
        r = harness.request(self.port, "GET", "/some/path?a=1&b=%20x",
                            headers={"x-test-tag": tag}, host="example.com:1234")
        self.assertEqual(r.status, 200)
        u = self.upstream_request(tag)
        self.assertEqual(u.header_all("host"), ["example.com:1234"])
        self.assertEqual(u.target, "/some/path?a=1&b=%20x")

    def test_absolute_form_request_target(self):
        # RFC 9112 3.2.2 / Envoy codec: the host of an absolute-form target replaces Host, and
        # the upstream gets the origin form.
        tag = new_tag()
        with RawConn(self.port) as c:
            c.send("GET http://abs.example:8080/p/q?x=1 HTTP/1.1\r\nHost: ignored.example\r\n"
                   "x-test-tag: %s\r\n\r\n" % tag)
            self.assertEqual(c.read_response().status, 200)
        u = self.upstream_request(tag)
        self.assertEqual(u.target, "/p/q?x=1")
        self.assertEqual(u.header_all("host"), ["abs.example:8080"])

    def test_prefix_rewrite(self):
        tag = new_tag()
        r = harness.request(self.port, "GET", "/app/foo/bar?x=1", headers={"x-test-tag": tag})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.upstream_request(tag).target, "/foo/bar?x=1")

    # ---- Expect: 100-continue ----

    def test_expect_100_continue_raw(self):
        tag = new_tag()
        body = pattern_bytes(5000)
        with RawConn(self.port) as c:
            c.send("POST /sha256 HTTP/1.1\r\nHost: h\r\nx-test-tag: %s\r\n"
                   "Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n" % tag)
            interim = c.read_until(b"\r\n\r\n", timeout=5.0)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim)
            c.send(body)
            r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body.decode(), pattern_sha256(5000))
        u = self.upstream_request(tag)
        self.assertFalse(u.has("expect"), "expect forwarded upstream: %r" % u.headers)

    def test_expect_100_continue_curl(self):
        n = 2 * 1024 * 1024 + 1
        path = harness.write_pattern_file(os.path.join(self.tmp, "expect.bin"), n)
        r = curl(self.url("/sha256"), ["--data-binary", "@" + path,
                                      "-H", "Expect: 100-continue",
                                      "--expect100-timeout", "30"])
        self.assertEqual((r.rc, r.status), (0, 200), r)
        self.assertEqual(r.body.decode(), pattern_sha256(n))
        self.assertTrue(r.all_heads and r.all_heads[0].startswith("HTTP/1.1 100"), r.all_heads)

    def test_no_upstream_protocol_errors(self):
        harness.request(self.port, "GET", "/name")
        self.assertNoUpstreamProtocolErrors()


if __name__ == "__main__":
    harness.main()
