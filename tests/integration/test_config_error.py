"""Configuration errors never take down a running proxy (issue 2, item 6: "A config error never
takes down a running proxy").

Proxy A runs a good config and carries traffic. For each bad configuration, a second instance B is
started in serve mode: it must exit with status 1 within a bound, naming the problem (the field
path for docs/examples/broken/*, the missing cluster for a dangling route), without becoming LIVE,
while A keeps answering traffic and its admin. B with a good config but A's admin port must fail
too (the admin address is in use) instead of sharing it. At the end A still exits cleanly on
SIGTERM (checked by the harness).
"""

import glob
import os
import subprocess
import time

import harness
from harness import bootstrap, free_ports, http_listener, route, static_cluster, virtual_host

EXAMPLES = os.path.join(harness.SOURCE_DIR, "docs", "examples")


def expected_error(path):
    with open(path) as f:
        for line in f:
            if line.startswith("# expect-error:"):
                return line.split(":", 1)[1].strip()
    return None


class ConfigErrors(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        (cls.up,) = cls.start_upstreams("up")
        cls.port, cls.admin = free_ports(2)
        cfg = bootstrap(cls.admin, [http_listener("l", cls.port,
                                                  [virtual_host("all", [route("/", "up")])])],
                        [static_cluster("up", [cls.up.port])])
        cls.start_proxy(cfg)

    def assertAServing(self):
        r = harness.request(self.port, "GET", "/name")
        self.assertEqual((r.status, r.body), (200, b"up"))
        self.assertEqual(self.proxy.admin_get("/ready")[0], 200)
        self.assertProxyAlive()

    def start_b(self, text, expect_in_output=None):
        path = harness.write_temp(text)
        try:
            p = subprocess.run([harness.OUTRIDER, "-c", path, "--concurrency", "2", "-l", "info"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=20 * harness.SLOW)
        except subprocess.TimeoutExpired:
            self.fail("instance B with a bad config kept running (still up after the bound)")
        finally:
            os.unlink(path)
        out = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 1, "B exit %d:\n%s" % (p.returncode, out[-3000:]))
        for marker in harness.SANITIZER_MARKERS:
            self.assertNotIn(marker, out)
        if expect_in_output:
            self.assertIn(expect_in_output, out)
        return out

    def test_broken_examples_in_serve_mode(self):
        broken = sorted(glob.glob(os.path.join(EXAMPLES, "broken", "*.yaml")))
        self.assertTrue(broken)
        for path in broken:
            with self.subTest(path=os.path.basename(path)):
                self.start_b(open(path).read(), expected_error(path))
                self.assertAServing()

    def test_syntax_error(self):
        self.start_b("static_resources: {listeners: [\n")
        self.assertAServing()

    def test_route_to_unknown_cluster(self):
        lport, aport = free_ports(2)
        cfg = bootstrap(aport, [http_listener("l", lport,
                                              [virtual_host("all", [route("/", "nope")])])],
                        [static_cluster("up", [self.up.port])])
        self.start_b(harness.to_yaml(cfg), "nope")
        self.assertAServing()
        self.assertTrue(harness.port_is_free(aport), "B left its admin port bound")

    def test_admin_port_in_use(self):
        lport = harness.free_port()
        cfg = bootstrap(self.admin, [http_listener("l2", lport,
                                                   [virtual_host("all", [route("/", "up")])])],
                        [static_cluster("up", [self.up.port])])
        t0 = time.monotonic()
        self.start_b(harness.to_yaml(cfg))
        self.assertLess(time.monotonic() - t0, 15 * harness.SLOW)
        self.assertAServing()
        # The admin port still belongs to A alone.
        for _ in range(5):
            status, _, body = self.proxy.admin_get("/ready")
            self.assertEqual((status, body), (200, b"LIVE\n"))


if __name__ == "__main__":
    harness.main()
