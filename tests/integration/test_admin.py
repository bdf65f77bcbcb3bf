"""Minimal admin (issue 2, item 5): /ready answers 200 "LIVE\\n"; /server_info is pretty-printed
JSON with "state": "LIVE" on a line of its own, so the ECS/EKS health check command
`curl -s http://localhost:<port>/server_info | grep state | grep -q LIVE` (run through sh -c,
as the container runtime does) exits 0 while the proxy is up and non-zero once it is stopped.
Unknown admin paths get 404; the admin port keeps answering while the data plane is busy."""

import json
import subprocess
import threading

import harness
from harness import bootstrap, free_ports, http_listener, route, static_cluster, virtual_host


def health_check(port):
    cmd = "curl -s http://localhost:%d/server_info | grep state | grep -q LIVE" % port
    return subprocess.run(["sh", "-c", cmd], timeout=20).returncode


class Admin(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        (cls.up,) = cls.start_upstreams("up")
        cls.port, cls.admin = free_ports(2)
        cfg = bootstrap(cls.admin, [http_listener("l", cls.port,
                                                  [virtual_host("all", [route("/", "up")])])],
                        [static_cluster("up", [cls.up.port])])
        cfg["node"] = {"id": "mesh/m/virtualNode/vn", "cluster": "vn",
                       "metadata": {"aws.appmesh.platformInfo": {"AWS_EXECUTION_ENV": "AWS_ECS"},
                                    "level": 1}}
        cls.start_proxy(cfg, args=["--service-zone", "use1-az1"])

    def test_ready(self):
        status, headers, body = self.proxy.admin_get("/ready")
        self.assertEqual((status, body), (200, b"LIVE\n"))

    def test_server_info_json(self):
        status, headers, body = self.proxy.admin_get("/server_info")
        self.assertEqual(status, 200)
        info = json.loads(body)
        self.assertEqual(info.get("state"), "LIVE", info)

    def test_server_info_node(self):
        info = json.loads(self.proxy.admin_get("/server_info")[2])
        node = info["node"]
        self.assertEqual((node["id"], node["cluster"]), ("mesh/m/virtualNode/vn", "vn"))
        self.assertEqual(node["metadata"], {"aws.appmesh.platformInfo": {"AWS_EXECUTION_ENV": "AWS_ECS"},
                                            "level": 1})
        self.assertEqual(node["locality"]["zone"], "use1-az1")   # --service-zone overrides

    def test_server_info_pretty_state_line(self):
        _, _, body = self.proxy.admin_get("/server_info")
        lines = body.decode().splitlines()
        self.assertGreater(len(lines), 2, "not pretty-printed: %r" % body[:200])
        both = [l for l in lines if "state" in l and "LIVE" in l]
        self.assertEqual(len(both), 1, both)
        self.assertRegex(both[0].strip(), r'^"state": "LIVE",?$')

    def test_ecs_health_check_command(self):
        self.assertEqual(health_check(self.admin), 0)

    def test_unknown_admin_path(self):
        status, _, _ = self.proxy.admin_get("/no-such-admin-endpoint")
        self.assertEqual(status, 404)

    def test_admin_answers_during_data_plane_load(self):
        stop = threading.Event()

        def load():
            while not stop.is_set():
                try:
                    harness.request(self.port, "GET", "/bytes/200000")
                except OSError:
                    pass

        ts = [threading.Thread(target=load) for _ in range(4)]
        for t in ts:
            t.start()
        try:
            for _ in range(20):
                self.assertEqual(self.proxy.admin_get("/ready", timeout=5)[0], 200)
        finally:
            stop.set()
            for t in ts:
                t.join()


class HealthCheckFailsWhenDown(harness.unittest.TestCase):
    def test_health_check_after_stop(self):
        port, admin = free_ports(2)
        cfg = bootstrap(admin, [http_listener("l", port,
                                              [virtual_host("all", [route("/", "app")])])],
                        [static_cluster("app", [harness.closed_port()])])
        with harness.Proxy(cfg) as p:
            self.assertEqual(health_check(admin), 0)
            p.stop(check=True)
            self.assertNotEqual(health_check(admin), 0)


if __name__ == "__main__":
    harness.main()
