"""Routing and clusters end to end (issue 2 config subset; unit tests cover the matcher in depth,
this proves the loaded config drives the data path):

* virtual host selection by Host: exact (with and without port), "*.suffix" (longest wins),
  "prefix*", "*" as fallback; a port that is not listed falls through to "*".
* route matches: path (exact), safe_regex (RE2, full match), prefix with case_sensitive: false,
  header match (string_match exact), first match wins.
* route actions: host_rewrite_literal (upstream Host), prefix_rewrite.
* clusters: STRICT_DNS and LOGICAL_DNS on "localhost"; ROUND_ROBIN, LEAST_REQUEST and RANDOM over
  two endpoints all use both; circuit_breakers max_requests: 1 turns a second concurrent request
  into Envoy's 503 "upstream connect error or disconnect/reset before headers. reset reason:
  overflow" with x-envoy-overloaded: true (router.cc onUpstreamAbort, dropped=true).
"""

import threading

import harness
from harness import (RawConn, bootstrap, direct_route, free_ports, http_listener, route,
                     static_cluster, virtual_host)

OVERFLOW = ("upstream connect error or disconnect/reset before headers. reset reason: "
            "overflow")


def dns_cluster(name, kind, port):
    c = static_cluster(name, [("localhost", port)])
    c["type"] = kind
    return c


class Routing(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        cls.up, cls.u1, cls.u2 = cls.start_upstreams("up", "e1", "e2")
        cls.port, admin = free_ports(2)
        vhosts = [
            virtual_host("exact", [direct_route("/", 200, "exact")],
                         domains=["exact.example", "exact.example:8080"]),
            virtual_host("suffix", [direct_route("/", 200, "suffix")],
                         domains=["*.suffix.example"]),
            virtual_host("deep", [direct_route("/", 200, "deep-suffix")],
                         domains=["*.deep.suffix.example"]),
            virtual_host("prefix", [direct_route("/", 200, "prefix")], domains=["prefix.*"]),
            virtual_host("default", [
                {"match": {"path": "/exact-path"},
                 "direct_response": {"status": 200, "body": {"inline_string": "path"}}},
                {"match": {"safe_regex": {"regex": "/re/[0-9]+"}},
                 "direct_response": {"status": 200, "body": {"inline_string": "regex"}}},
                {"match": {"prefix": "/CaseLess/", "case_sensitive": False},
                 "direct_response": {"status": 200, "body": {"inline_string": "caseless"}}},
                {"match": {"prefix": "/hdr",
                           "headers": [{"name": "x-mode", "string_match": {"exact": "blue"}}]},
                 "direct_response": {"status": 200, "body": {"inline_string": "hdr-blue"}}},
                direct_route("/hdr", 200, "hdr-default"),
                route("/hostrw/", "up", prefix_rewrite="/", host_rewrite_literal="rw.example"),
                route("/strict/", "strict", prefix_rewrite="/"),
                route("/logical/", "logical", prefix_rewrite="/"),
                route("/rr/", "rr", prefix_rewrite="/"),
                route("/lr/", "lr", prefix_rewrite="/"),
                route("/rand/", "rand", prefix_rewrite="/"),
                route("/cb/", "cb", prefix_rewrite="/"),
                direct_route("/", 200, "default"),
            ]),
        ]
        two = [cls.u1.port, cls.u2.port]
        cb = static_cluster("cb", [cls.up.port])
        cb["circuit_breakers"] = {"thresholds": [{"max_requests": 1}]}
        cfg = bootstrap(admin, [http_listener("l", cls.port, vhosts)], [
            static_cluster("up", [cls.up.port]),
            dns_cluster("strict", "STRICT_DNS", cls.up.port),
            dns_cluster("logical", "LOGICAL_DNS", cls.up.port),
            static_cluster("rr", two, lb_policy="ROUND_ROBIN"),
            static_cluster("lr", two, lb_policy="LEAST_REQUEST"),
            static_cluster("rand", two, lb_policy="RANDOM"),
            cb,
        ])
        cls.start_proxy(cfg)

    def body(self, path, host=None, headers=None):
        r = harness.request(self.port, "GET", path, host=host, headers=headers)
        self.assertEqual(r.status, 200, (path, host, r))
        return r.body.decode()

    def test_domains(self):
        cases = [
            ("exact.example", "exact"),
            ("exact.example:8080", "exact"),
            ("EXACT.example", "exact"),  # host names are case-insensitive
            ("exact.example:9999", "default"),
            ("a.suffix.example", "suffix"),
            ("a.b.suffix.example", "suffix"),
            ("x.deep.suffix.example", "deep-suffix"),
            ("suffix.example", "default"),
            ("prefix.anything", "prefix"),
            ("prefix.anything:1234", "prefix"),
            ("other.example", "default"),
        ]
        got = [(host, self.body("/", host=host)) for host, _ in cases]
        self.assertEqual(got, cases)

    def test_route_matches(self):
        self.assertEqual(self.body("/exact-path"), "path")
        self.assertEqual(self.body("/exact-path/more"), "default")
        self.assertEqual(self.body("/re/123"), "regex")
        self.assertEqual(self.body("/re/12a"), "default")  # safe_regex must match the full path
        self.assertEqual(self.body("/caseless/x"), "caseless")
        self.assertEqual(self.body("/CASELESS/x"), "caseless")
        self.assertEqual(self.body("/hdr", headers={"x-mode": "blue"}), "hdr-blue")
        self.assertEqual(self.body("/hdr", headers={"x-mode": "green"}), "hdr-default")
        self.assertEqual(self.body("/hdr"), "hdr-default")

    def test_host_rewrite_literal(self):
        tag = harness.new_tag()
        r = harness.request(self.port, "GET", "/hostrw/headers?tag=" + tag, host="orig.example")
        self.assertEqual(r.status, 200)
        u = self.up.find_request(tag)
        self.assertEqual(u.header_all("host"), ["rw.example"])
        self.assertEqual(u.path, "/headers")

    def test_dns_clusters(self):
        for prefix in ("/strict/", "/logical/"):
            r = harness.request(self.port, "GET", prefix + "name")
            self.assertEqual((prefix, r.status, r.body), (prefix, 200, b"up"))

    def test_lb_policies_use_both_endpoints(self):
        for prefix in ("/rr/", "/lr/", "/rand/"):
            counts = {}
            with RawConn(self.port) as c:
                for _ in range(60):
                    c.send("GET %sname HTTP/1.1\r\nHost: h\r\n\r\n" % prefix)
                    r = c.read_response()
                    counts[r.body] = counts.get(r.body, 0) + 1
            self.assertEqual(set(counts), {b"e1", b"e2"}, (prefix, counts))
            if prefix == "/rr/":
                # One client connection stays on one worker, whose round robin alternates.
                self.assertEqual(counts, {b"e1": 30, b"e2": 30})

    def test_circuit_breaker_max_requests(self):
        tag = harness.new_tag()
        results = []

        def slow():
            results.append(harness.request(self.port, "GET", "/cb/slow/1500?tag=" + tag))

        t = threading.Thread(target=slow)
        t.start()
        try:
            self.assertIsNotNone(self.up.find_request(tag), "first request never arrived")
            r = harness.request(self.port, "GET", "/cb/name")
            self.assertEqual((r.status, r.body.decode()), (503, OVERFLOW))
            self.assertEqual(r.header("x-envoy-overloaded"), "true")
        finally:
            t.join()
        self.assertEqual(results[0].status, 200)
        r = harness.request(self.port, "GET", "/cb/name")
        self.assertEqual((r.status, r.body), (200, b"up"))


if __name__ == "__main__":
    harness.main()
