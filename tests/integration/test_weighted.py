"""Weighted clusters (issue 2 acceptance: "weighted clusters split within +-5% over 10,000
requests"). Route "/" splits 70/30 between clusters a and b (each one upstream that answers its
name on /name); 10,000 requests over 8 keep-alive connections must land 70% +- 5 points on a.
Also: a 0-weight cluster never gets traffic, and a 100/0 split sends everything to one side."""

import threading
import time

import harness
from harness import (RawConn, bootstrap, free_ports, http_listener, static_cluster,
                     virtual_host, weighted_route)

TOTAL = 10000
CONNS = 8


class Weighted(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        cls.a, cls.b = cls.start_upstreams("a", "b")
        cls.port, admin = free_ports(2)
        vh = virtual_host("all", [
            weighted_route("/zero/", [("a", 100), ("b", 0)], prefix_rewrite="/"),
            weighted_route("/", [("a", 70), ("b", 30)]),
        ])
        cfg = bootstrap(admin, [http_listener("l", cls.port, [vh])],
                        [static_cluster("a", [cls.a.port]), static_cluster("b", [cls.b.port])])
        cls.start_proxy(cfg)

    def run_requests(self, path, total):
        counts = {}
        errors = []
        lock = threading.Lock()

        def worker(n):
            local = {}
            try:
                with RawConn(self.port, timeout=10) as c:
                    for _ in range(n):
                        c.send("GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % path)
                        r = c.read_response()
                        if r.status != 200:
                            errors.append((r.status, r.body[:200]))
                            return
                        local[r.body] = local.get(r.body, 0) + 1
            except (OSError, harness.IncompleteResponse) as e:
                errors.append(repr(e))
            with lock:
                for k, v in local.items():
                    counts[k] = counts.get(k, 0) + v

        per = total // CONNS
        ts = [threading.Thread(target=worker, args=(per,)) for _ in range(CONNS)]
        t0 = time.monotonic()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        harness.log("%d requests in %.1fs: %r" % (total, time.monotonic() - t0, counts))
        self.assertEqual(errors[:3], [])
        self.assertEqual(sum(counts.values()), per * CONNS)
        return counts

    def test_split_70_30(self):
        counts = self.run_requests("/name", TOTAL)
        share_a = counts.get(b"a", 0) / float(TOTAL)
        self.assertAlmostEqual(share_a, 0.70, delta=0.05, msg="split %r" % counts)
        self.assertEqual(set(counts), {b"a", b"b"})

    def test_zero_weight_gets_nothing(self):
        counts = self.run_requests("/zero/name", 400)
        self.assertEqual(counts, {b"a": 400})


if __name__ == "__main__":
    harness.main()
