"""Self-test of the integration harness, without the proxy: the in-process upstream, the raw
client, the response parser and the YAML emitter. If this fails, the other files' verdicts
about the proxy cannot be trusted."""

import socket
import threading

import harness
from harness import RawConn, Upstream, curl, pattern_bytes, pattern_sha256


class UpstreamSelfTest(harness.unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream(name="self").start()

    @classmethod
    def tearDownClass(cls):
        cls.up.stop()

    def test_keepalive_and_routes(self):
        with RawConn(self.up.port) as c:
            c.send("GET /name HTTP/1.1\r\nHost: x\r\n\r\n")
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b"self"))
            c.send("POST /sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            r = c.read_response()
            self.assertEqual(r.body.decode(),
                             "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
            c.send("HEAD /bytes/100 HTTP/1.1\r\nHost: x\r\n\r\n")
            r = c.read_response(head_request=True)
            self.assertEqual((r.status, r.header("content-length"), r.body), (200, "100", b""))
            c.send("GET /status/304 HTTP/1.1\r\nHost: x\r\n\r\n")
            r = c.read_response()
            self.assertEqual((r.status, r.body), (304, b""))
            c.send("GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(c.read_response().status, 204)
            c.send("GET /bytes/300000?chunked=1&chunk=7000 HTTP/1.1\r\nHost: x\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.header("transfer-encoding"), "chunked")
            self.assertEqual(r.body, pattern_bytes(300000))

    def test_pipelining_and_chunked_upload(self):
        before = self.up.accepted
        reqs = (b"GET /name HTTP/1.1\r\nHost: x\r\n\r\n"
                b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nx-trailer: 1\r\n\r\n"
                b"GET /status/418 HTTP/1.1\r\nHost: x\r\n\r\n")
        with RawConn(self.up.port) as c:
            c.send(reqs)
            r1, r2, r3 = c.read_response(), c.read_response(), c.read_response()
        self.assertEqual(r1.body, b"self")
        self.assertEqual(r2.body, b"abcde")
        self.assertEqual(r3.status, 418)
        self.assertEqual(self.up.accepted, before + 1)

    def test_raw_bytes_recorded_and_bad_request(self):
        with RawConn(self.up.port) as c:
            c.send(b"GET / HTTP/1.1\nHost: x\n\n")
            r = c.read_response()
            self.assertEqual(r.status, 400)
        self.assertTrue(any("bare LF" in e for e in self.up.protocol_errors))
        conn = self.up.conns[-1]
        self.assertEqual(bytes(conn.raw), b"GET / HTTP/1.1\nHost: x\n\n")
        self.up.reset_stats()

    def test_die_mid_response(self):
        data, closed = harness.raw_exchange(self.up.port,
                                            b"GET /die-mid-response HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(closed)
        self.assertIn(b"content-length: 1000000", data)
        with self.assertRaises(harness.IncompleteResponse):
            harness.parse_response(data, eof=True)

    def test_curl_direct(self):
        r = curl("http://127.0.0.1:%d/bytes/2000000" % self.up.port)
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 200)
        self.assertEqual(harness.hashlib.sha256(r.body).hexdigest(), pattern_sha256(2000000))
        r = curl("http://127.0.0.1:%d/sha256" % self.up.port,
                 ["-H", "Expect: 100-continue", "--data-binary", "@-"], input_data=b"x" * 5000)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.all_heads[0].startswith("HTTP/1.1 100"), r.all_heads)

    def test_many_concurrent_connections(self):
        n = 300
        results = []

        def one():
            try:
                with RawConn(self.up.port) as c:
                    c.send("GET /slow/50 HTTP/1.1\r\nHost: x\r\n\r\n")
                    results.append(c.read_response().status)
            except OSError as e:
                results.append(repr(e))

        ts = [threading.Thread(target=one) for _ in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(results.count(200), n, results[:5])


class EmitterSelfTest(harness.unittest.TestCase):
    def test_yaml(self):
        y = harness.to_yaml({"a": {"b": [1, {"c": "x y", "d": []}], "@type": "t.x/y"},
                             "e": True, "f": "1s", "g": "no"})
        self.assertEqual(y, 'a:\n  b:\n    - 1\n    - c: "x y"\n      d: []\n'
                            '  "@type": t.x/y\ne: true\nf: "1s"\ng: "no"\n')

    def test_free_ports_distinct(self):
        ps = harness.free_ports(20)
        self.assertEqual(len(set(ps)), 20)
        s = socket.socket()
        s.bind(("127.0.0.1", ps[0]))
        self.assertFalse(harness.port_is_free(ps[0]))
        s.close()


if __name__ == "__main__":
    harness.main()
