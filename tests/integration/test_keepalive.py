"""Keep-alive, pipelining and concurrency (issue 2 acceptance: "keep-alive reuse proven by the
upstream's connection count; 1,000 concurrent client connections; pipelining").

* 200 sequential requests on one client connection: the client connection is never closed and the
  upstream accepts at most one connection per worker (--concurrency 2 => <= 2).
* 10 client connections one after the other, 20 requests each: still <= 2 upstream connections,
  because idle upstream connections go back to the per-worker pool.
* pipelining: 12 mixed requests (GET, POST with content-length and chunked bodies, HEAD, 204) in
  one write; the responses come back complete and in order.
* pipelining split at awkward byte boundaries (one byte per write for a few requests).
* 1,000 client connections opened at once, each doing one request to a slow route so they overlap:
  every one gets 200.
* a client "Connection: close" request gets its answer and then the connection is closed.
"""

import asyncio
import time

import harness
from harness import (RawConn, bootstrap, free_ports, http_listener, route, static_cluster,
                     virtual_host)

CONCURRENT = 1000


class KeepAlive(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        harness.raise_nofile()
        (cls.up,) = cls.start_upstreams("up")
        cls.port, admin = free_ports(2)
        cfg = bootstrap(admin, [http_listener("l", cls.port,
                                              [virtual_host("all", [route("/", "up")])])],
                        [static_cluster("up", [cls.up.port])])
        cls.start_proxy(cfg)

    def setUp(self):
        self.up.reset_stats()
        self.base = self.up.accept_count

    def opened(self):
        """Upstream connections accepted since this test started."""
        return self.up.accept_count - self.base

    def test_sequential_requests_one_connection(self):
        with RawConn(self.port) as c:
            for i in range(200):
                c.send("GET /echo?i=%d HTTP/1.1\r\nHost: h\r\n\r\n" % i)
                r = c.read_response()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.header("x-echo-path"), "/echo?i=%d" % i)
                self.assertFalse(c.eof, "proxy closed the client connection after %d" % i)
                self.assertFalse(r.wants_close(), r.headers)
        self.assertLessEqual(self.opened(), 1,
                             "200 sequential requests on one client connection opened %d "
                             "upstream connections" % self.opened())
        self.assertLessEqual(self.up.conns_used(), 2, "requests spread over %d upstream "
                             "connections" % self.up.conns_used())

    def test_sequential_client_connections_reuse_upstream(self):
        # Warm-up may open one upstream connection per worker; after that, no more.
        for n in range(10):
            with RawConn(self.port) as c:
                for i in range(20):
                    c.send("GET /name HTTP/1.1\r\nHost: h\r\n\r\n")
                    self.assertEqual(c.read_response().body, b"up")
        self.assertLessEqual(self.opened(), 2,
                             "200 requests over 10 sequential client connections opened %d "
                             "upstream connections" % self.opened())
        self.assertLessEqual(self.up.conns_used(), 2, "requests spread over %d upstream "
                             "connections" % self.up.conns_used())
        self.assertEqual(self.up.snapshot()[2], 200)

    def test_pipelining_in_order(self):
        reqs = []
        expect = []
        for i in range(12):
            kind = i % 4
            if kind == 0:
                reqs.append("GET /echo?p=%d HTTP/1.1\r\nHost: h\r\n\r\n" % i)
                expect.append(("GET", i, b""))
            elif kind == 1:
                body = ("body-%d-" % i) * (i + 1)
                reqs.append("POST /echo?p=%d HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s"
                            % (i, len(body), body))
                expect.append(("POST", i, body.encode()))
            elif kind == 2:
                reqs.append("PUT /echo?p=%d HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked"
                            "\r\n\r\n3\r\nabc\r\n%x\r\n%s\r\n0\r\n\r\n" % (i, i, "z" * i))
                expect.append(("PUT", i, b"abc" + b"z" * i))
            else:
                reqs.append("HEAD /echo?p=%d HTTP/1.1\r\nHost: h\r\n\r\n" % i)
                expect.append(("HEAD", i, b""))
        with RawConn(self.port) as c:
            c.send("".join(reqs))
            for method, i, body in expect:
                r = c.read_response(head_request=(method == "HEAD"))
                self.assertEqual(r.status, 200, "response %d" % i)
                self.assertEqual(r.header("x-echo-path"), "/echo?p=%d" % i, "out of order")
                self.assertEqual(r.header("x-echo-method"), method)
                self.assertEqual(r.body, body)
            c.send("GET /status/204 HTTP/1.1\r\nHost: h\r\n\r\nGET /name HTTP/1.1\r\nHost: h"
                   "\r\n\r\n")
            self.assertEqual(c.read_response().status, 204)
            self.assertEqual(c.read_response().body, b"up")

    def test_pipelining_byte_by_byte(self):
        data = ("GET /echo?b=1 HTTP/1.1\r\nHost: h\r\n\r\n"
                "POST /echo?b=2 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd"
                "GET /echo?b=3 HTTP/1.1\r\nHost: h\r\n\r\n").encode()
        with RawConn(self.port) as c:
            for i in range(len(data)):
                c.send(data[i:i + 1])
            for i, body in ((1, b""), (2, b"abcd"), (3, b"")):
                r = c.read_response()
                self.assertEqual((r.header("x-echo-path"), r.body), ("/echo?b=%d" % i, body))

    def test_connection_close_from_client(self):
        with RawConn(self.port) as c:
            c.send("GET /name HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b"up"))
            self.assertTrue(r.wants_close(), r.headers)
            self.assertTrue(c.wait_closed(5), "proxy kept the connection open after close")

    def test_z_concurrent_1000_connections(self):
        # Named to run last: afterwards the pools hold many idle upstream connections.
        port = self.port

        async def one(i, results, go, ready):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError as e:
                results[i] = "connect: %r" % e
                ready[0] += 1
                return
            ready[0] += 1
            try:
                await go.wait()
                writer.write(b"GET /slow/300?c=%d HTTP/1.1\r\nHost: h\r\n\r\n" % i)
                await writer.drain()
                buf = bytearray()
                while True:
                    got = harness.parse_response(buf)
                    if got is not None:
                        results[i] = got[0]
                        return
                    d = await reader.read(65536)
                    if not d:
                        results[i] = "closed: %r" % bytes(buf[:200])
                        return
                    buf += d
            except OSError as e:
                results[i] = "error: %r" % e
            finally:
                writer.close()

        async def run():
            results = [None] * CONCURRENT
            go = asyncio.Event()
            ready = [0]
            tasks = [asyncio.ensure_future(one(i, results, go, ready)) for i in range(CONCURRENT)]
            # Every connection is established before the first request is sent.
            deadline = time.monotonic() + 20 * harness.SLOW
            while ready[0] < CONCURRENT and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            go.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 60 * harness.SLOW)
            return results

        t0 = time.monotonic()
        results = asyncio.run(run())
        elapsed = time.monotonic() - t0
        bad = [(i, r) for i, r in enumerate(results)
               if not isinstance(r, harness.Response) or r.status != 200]
        self.assertEqual(bad[:5], [], "%d of %d concurrent requests failed" % (len(bad),
                                                                              CONCURRENT))
        harness.log("1000 concurrent requests in %.1fs; upstream connections opened %d"
                    % (elapsed, self.opened()))
        self.assertProxyAlive()


if __name__ == "__main__":
    harness.main()
