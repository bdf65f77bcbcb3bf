"""Admin dump endpoints against a running proxy (issue 3, item 2): /clusters in Envoy's text
format line by line (with per-host counters that follow real traffic: rq_total, rq_success,
cx_connect_fail, health_flags), /clusters?format=json, /listeners (text and JSON) and /config_dump
(Envoy's parts and @types, ?resource=, ?mask=, ?name_regex=, ?include_eds, Envoy's error texts).
The dump loads back through our own loader: the whole ConfigDump through or_config_pack, and its
bootstrap as the config of `outrider --mode validate`."""

import json
import os
import re
import subprocess
import time

import harness
from harness import (bootstrap, direct_route, free_ports, http_listener, route, static_cluster,
                     virtual_host)

HOST_FIELDS = ["cx_active", "cx_connect_fail", "cx_total", "rq_active", "rq_error", "rq_success",
               "rq_timeout", "rq_total", "hostname", "health_flags", "weight", "region", "zone",
               "sub_zone", "canary", "priority", "success_rate", "local_origin_success_rate"]
CLUSTER_FIELDS = ["observability_name"] + [
    "%s_priority::%s" % (p, k) for p in ("default", "high")
    for k in ("max_connections", "max_pending_requests", "max_requests", "max_retries")
] + ["added_via_api"]


def parse_clusters_text(body):
    """{cluster: {"fields": [(name, value)], "hosts": {addr: [(name, value)]}}} in output order."""
    out = {}
    for line in body.decode().splitlines():
        m = re.match(r"^([^:]+)::(.*)$", line)
        assert m, "bad line %r" % line
        name, rest = m.groups()
        c = out.setdefault(name, {"fields": [], "hosts": {}})
        m = re.match(r"^((?:\d+\.\d+\.\d+\.\d+|\[[0-9a-f:]+\]):\d+)::([a-z_]+)::(.*)$", rest)
        if m:
            c["hosts"].setdefault(m.group(1), []).append((m.group(2), m.group(3)))
        else:
            k, _, v = rest.rpartition("::")
            c["fields"].append((k, v))
    return out


class AdminDump(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        cls.up1, cls.up2 = cls.start_upstreams("up1", "up2")
        cls.port, cls.port2, cls.admin, cls.dead = free_ports(4)
        cfg = bootstrap(
            cls.admin,
            [http_listener("ingress", cls.port,
                           [virtual_host("all", [route("/down", "down"), route("/", "app")])]),
             http_listener("egress", cls.port2, [virtual_host("d", [direct_route("/", 204)])])],
            [static_cluster("app", [cls.up1.port, cls.up2.port],
                            circuit_breakers={"thresholds": [{"max_connections": 10,
                                                              "max_retries": 1}]}),
             static_cluster("down", [cls.dead], connect_timeout="0.5s"),
             static_cluster("empty", [])],
            node={"id": "mesh/node", "cluster": "svc"})
        cls.config = cfg
        cls.start_proxy(cfg)

    def get(self, path, status=200):
        st, headers, body = self.proxy.admin_get(path)
        self.assertEqual(st, status, "%s: %r" % (path, body[:300]))
        return dict(headers), body

    def clusters(self):
        return parse_clusters_text(self.get("/clusters")[1])

    def wait_host_stat(self, cluster, stat, want):
        """Host counters are summed per worker as requests end: poll (bounded) until they sum to
        `want` over the cluster's hosts."""
        deadline = time.monotonic() + 5 * harness.SLOW
        while True:
            c = self.clusters()[cluster]
            got = sum(int(dict(fields)[stat]) for fields in c["hosts"].values())
            if got >= want or time.monotonic() > deadline:
                return got, c
            time.sleep(0.02)

    # -- /clusters --

    def test_clusters_text_layout(self):
        headers, body = self.get("/clusters")
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        cl = parse_clusters_text(body)
        self.assertEqual(list(cl), ["app", "down", "empty"])
        app = cl["app"]
        self.assertEqual([k for k, _ in app["fields"]], CLUSTER_FIELDS)
        f = dict(app["fields"])
        self.assertEqual(f["observability_name"], "app")
        self.assertEqual(f["default_priority::max_connections"], "10")
        self.assertEqual(f["default_priority::max_pending_requests"], "1024")
        self.assertEqual(f["default_priority::max_retries"], "1")
        self.assertEqual(f["high_priority::max_retries"], "3")
        self.assertEqual(f["added_via_api"], "false")
        self.assertEqual(list(app["hosts"]), ["127.0.0.1:%d" % self.up1.port,
                                              "127.0.0.1:%d" % self.up2.port])
        for addr, fields in app["hosts"].items():
            self.assertEqual([k for k, _ in fields], HOST_FIELDS, addr)
            h = dict(fields)
            self.assertEqual(h["health_flags"], "healthy")
            self.assertEqual((h["weight"], h["canary"], h["priority"]), ("1", "false", "0"))
            self.assertEqual((h["region"], h["zone"], h["sub_zone"], h["hostname"]),
                             ("", "", "", ""))
            self.assertEqual((h["success_rate"], h["local_origin_success_rate"]),
                             ("-1.0", "-1.0"))
        self.assertEqual(cl["empty"]["hosts"], {})
        self.assertIn(b"\nempty::added_via_api::false\n", body)

    def test_clusters_counters_follow_traffic(self):
        before = sum(int(dict(h)["rq_total"]) for h in self.clusters()["app"]["hosts"].values())
        for _ in range(10):
            self.assertEqual(harness.request(self.port, "GET", "/hello").status, 200)
        got, c = self.wait_host_stat("app", "rq_total", before + 10)
        self.assertEqual(got, before + 10)
        succ = sum(int(dict(h)["rq_success"]) for h in c["hosts"].values())
        self.assertGreaterEqual(succ, 10)
        for fields in c["hosts"].values():  # round robin reached both
            self.assertGreater(int(dict(fields)["cx_total"]), 0)
            self.assertEqual(dict(fields)["rq_active"], "0")

    def test_clusters_connect_failure(self):
        r = harness.request(self.port, "GET", "/down")
        self.assertEqual(r.status, 503)
        got, c = self.wait_host_stat("down", "cx_connect_fail", 1)
        self.assertGreaterEqual(got, 1)
        (fields,) = c["hosts"].values()
        self.assertEqual(dict(fields)["health_flags"], "healthy")  # no outlier detection

    def test_clusters_json(self):
        headers, body = self.get("/clusters?format=json")
        self.assertEqual(headers["content-type"], "application/json")
        self.assertTrue(body.startswith(b'{\n "cluster_statuses": [\n  {\n   "name": "app",\n'))
        d = json.loads(body)
        names = [c["name"] for c in d["cluster_statuses"]]
        self.assertEqual(names, ["app", "down", "empty"])
        app = d["cluster_statuses"][0]
        self.assertEqual(app["observability_name"], "app")
        self.assertNotIn("added_via_api", app)  # false is proto3's default: not printed
        th = app["circuit_breakers"]["thresholds"]
        self.assertEqual(th[0], {"max_connections": 10, "max_pending_requests": 1024,
                                 "max_requests": 1024, "max_retries": 1})
        self.assertEqual(th[1]["priority"], "HIGH")
        h = app["host_statuses"][0]
        self.assertEqual(h["address"], {"socket_address": {"address": "127.0.0.1",
                                                           "port_value": self.up1.port}})
        self.assertEqual(h["health_status"], {"eds_health_status": "HEALTHY"})
        self.assertEqual(h["weight"], 1)
        self.assertEqual(h["locality"], {})
        self.assertEqual([s["name"] for s in h["stats"]],
                         ["cx_connect_fail", "cx_total", "rq_error", "rq_success", "rq_timeout",
                          "rq_total", "cx_active", "rq_active"])
        for s in h["stats"]:
            if "value" in s:
                self.assertRegex(s["value"], r"^[1-9]\d*$")  # uint64 as a string, 0 omitted
        self.assertNotIn("host_statuses", d["cluster_statuses"][2])

    # -- /listeners --

    def test_listeners(self):
        headers, body = self.get("/listeners")
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        self.assertEqual(body.decode(), "ingress::127.0.0.1:%d\negress::127.0.0.1:%d\n"
                         % (self.port, self.port2))
        headers, body = self.get("/listeners?format=json")
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(json.loads(body), {"listener_statuses": [
            {"name": "ingress",
             "local_address": {"socket_address": {"address": "127.0.0.1",
                                                  "port_value": self.port}}},
            {"name": "egress",
             "local_address": {"socket_address": {"address": "127.0.0.1",
                                                  "port_value": self.port2}}}]})
        self.assertEqual(self.get("/listeners?format=text")[1], self.get("/listeners")[1])

    # -- /config_dump --

    def test_config_dump_parts(self):
        headers, body = self.get("/config_dump")
        self.assertEqual(headers["content-type"], "application/json")
        self.assertTrue(body.endswith(b"}\n"))
        self.assertIn(b'\n   "@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",\n',
                      body)
        d = json.loads(body)
        types = [c["@type"].rsplit(".", 1)[-1] for c in d["configs"]]
        self.assertEqual(types, ["BootstrapConfigDump", "ClustersConfigDump", "ListenersConfigDump",
                                 "ScopedRoutesConfigDump", "RoutesConfigDump",
                                 "SecretsConfigDump"])
        boot = d["configs"][0]["bootstrap"]
        self.assertEqual(boot["node"], {"id": "mesh/node", "cluster": "svc",
                                        "user_agent_name": "envoy"})
        self.assertEqual(boot["admin"], self.config["admin"])
        self.assertRegex(d["configs"][0]["last_updated"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        sc = d["configs"][1]["static_clusters"]
        self.assertEqual([c["cluster"]["name"] for c in sc], ["app", "down", "empty"])
        self.assertEqual(sc[0]["cluster"]["@type"],
                         "type.googleapis.com/envoy.config.cluster.v3.Cluster")
        self.assertEqual(sc[1]["cluster"]["connect_timeout"], "0.500s")
        sl = d["configs"][2]["static_listeners"]
        self.assertEqual([l["listener"]["name"] for l in sl], ["ingress", "egress"])
        rc = d["configs"][4]["static_route_configs"]
        self.assertEqual([r["route_config"]["name"] for r in rc],
                         ["ingress_routes", "egress_routes"])
        self.assertEqual(d["configs"][3], {"@type": "type.googleapis.com/envoy.admin.v3."
                                                    "ScopedRoutesConfigDump"})

    def test_config_dump_loads_back(self):
        _, body = self.get("/config_dump")
        d = json.loads(body)
        pack = os.path.join(harness.BUILD_DIR, "or_config_pack")
        if os.path.exists(pack):
            path = harness.write_temp(body.decode(), suffix=".json")
            try:
                p = subprocess.run([pack, "envoy.admin.v3.ConfigDump", path],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            finally:
                os.unlink(path)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertGreater(len(p.stdout), 100)
        boot = dict(d["configs"][0]["bootstrap"])
        path = harness.write_temp(json.dumps(boot), suffix=".json")
        try:
            r = harness.run_outrider(["--mode", "validate", "-c", path])
        finally:
            os.unlink(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"OK", r.stdout)

    def test_config_dump_resource_and_mask(self):
        headers, body = self.get("/config_dump?resource=static_listeners&mask=listener.name")
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(json.loads(body), {"configs": [
            {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump.StaticListener",
             "listener": {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
                          "name": n}} for n in ("ingress", "egress")]})
        _, body = self.get("/config_dump?mask=static_clusters")
        d = json.loads(body)
        self.assertEqual(len(d["configs"]), 1)
        self.assertEqual(list(d["configs"][0]), ["@type", "static_clusters"])
        _, body = self.get("/config_dump?mask=bootstrap.node")
        self.assertEqual(json.loads(body)["configs"][0]["bootstrap"],
                         {"node": {"id": "mesh/node", "cluster": "svc",
                                   "user_agent_name": "envoy"}})

    def test_config_dump_errors(self):
        cases = [
            ("/config_dump?resource=nope", 404, "nope not found in config dump"),
            ("/config_dump?resource=bootstrap", 400,
             "bootstrap is not a repeated field. Use ?mask=bootstrap to get only this field"),
            ("/config_dump?mask=nope", 400,
             "FieldMask nope could not be successfully applied to any configs."),
            ("/config_dump?resource=static_clusters&mask=cluster.nope", 400,
             'FieldMask paths: "cluster.nope"\n could not be successfully used.'),
        ]
        for path, status, text in cases:
            headers, body = self.get(path, status)
            self.assertEqual(body.decode(), text, path)
            self.assertTrue(headers["content-type"].startswith("text/plain"), path)
        headers, body = self.get("/config_dump?name_regex=%28", 400)
        self.assertTrue(body.startswith(b"INVALID_ARGUMENT: Error while parsing name_regex from ("),
                        body)

    def test_config_dump_name_regex_and_eds(self):
        _, body = self.get("/config_dump?include_eds&name_regex=app%7Cingress.*")
        d = json.loads(body)
        types = [c["@type"].rsplit(".", 1)[-1] for c in d["configs"]]
        self.assertEqual(types[:4], ["BootstrapConfigDump", "ClustersConfigDump",
                                     "EndpointsConfigDump", "ListenersConfigDump"])
        self.assertEqual([c["cluster"]["name"] for c in d["configs"][1]["static_clusters"]],
                         ["app"])
        (ep,) = d["configs"][2]["static_endpoint_configs"]
        cla = ep["endpoint_config"]
        self.assertEqual(cla["cluster_name"], "app")
        addrs = [lb["endpoint"]["address"]["socket_address"]["port_value"]
                 for lb in cla["endpoints"][0]["lb_endpoints"]]
        self.assertEqual(addrs, [self.up1.port, self.up2.port])
        self.assertEqual([l["listener"]["name"] for l in d["configs"][3]["static_listeners"]],
                         ["ingress"])
        self.assertEqual([r["route_config"]["name"]
                          for r in d["configs"][5]["static_route_configs"]], ["ingress_routes"])

    def test_help_lists_endpoints(self):
        _, body = self.get("/help")
        text = body.decode()
        self.assertIn("  /clusters: upstream cluster status\n", text)
        self.assertIn("  /config_dump: dump current Envoy configs (experimental)\n", text)
        self.assertIn("  /listeners: print listener info\n", text)


if __name__ == "__main__":
    harness.main()
