#!/usr/bin/env python3
"""Access logs (issue 3): envoy.access_loggers.file with Envoy's default format and with a JSON
format, written by the log thread; response flags for no route (NR), upstream connect failure (UF)
and upstream timeout (UT); SIGUSR1 and POST /reopen_logs reopen the file after rotation; a bad format
string is a config error naming the field."""

import json
import os
import re
import signal
import tempfile
import time
import unittest

import harness
from harness import (bootstrap, free_ports, http_listener, route, run_outrider, static_cluster,
                     virtual_host, write_temp)

FILE_LOG = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"

# Envoy's default format: [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%
# %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
# %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
# "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
DEFAULT_LINE = re.compile(
    r'^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] "(\S+) (\S+) (\S+)" (\d+) (\S+) (\d+) (\d+) '
    r'(\d+) (\S+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)"$')


def wait_lines(path, n, timeout=10.0):
    """Readiness: the log thread has written n lines (flush interval is 50 ms here)."""
    deadline = time.monotonic() + timeout * harness.SLOW
    lines = []
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                lines = f.read().splitlines()
            if len(lines) >= n:
                return lines
        time.sleep(0.02)
    return lines


class AccessLog(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        (cls.up,) = cls.start_upstreams("up")
        cls.dir = tempfile.mkdtemp(prefix="outrider-alog-")
        cls.text_path = os.path.join(cls.dir, "access.log")
        cls.json_path = os.path.join(cls.dir, "access.json")
        cls.port, admin = free_ports(2)
        dead = harness.closed_port()
        logs = [
            {"name": "envoy.access_loggers.file",
             "typed_config": {"@type": FILE_LOG, "path": cls.text_path}},
            {"name": "envoy.access_loggers.file",
             "typed_config": {"@type": FILE_LOG, "path": cls.json_path,
                              "log_format": {"json_format": {
                                  "code": "%RESPONSE_CODE%", "flags": "%RESPONSE_FLAGS%",
                                  "method": "%REQ(:METHOD)%", "path": "%REQ(:PATH)%",
                                  "cluster": "%UPSTREAM_CLUSTER%", "host": "%UPSTREAM_HOST%",
                                  "details": "%RESPONSE_CODE_DETAILS%",
                                  "rx": "%BYTES_RECEIVED%", "tx": "%BYTES_SENT%"}}}},
        ]
        vh = virtual_host("all", [
            route("/up/", "up"),
            route("/dead/", "dead"),
            route("/slow/", "up", timeout="0.2s"),
        ])
        cfg = bootstrap(admin, [http_listener("l", cls.port, [vh], access_log=logs)],
                        [static_cluster("up", [cls.up.port]), static_cluster("dead", [dead])])
        cls.admin = admin
        cls.start_proxy(cfg, args=["--file-flush-interval-msec", "50"])
        cls.expect = []
        for path in ("/up/name", "/nothing", "/dead/x", "/slow/2000"):
            r = harness.request(cls.port, "GET", path, headers={"User-Agent": "ua-test"})
            cls.expect.append((path, r.status))
            cls.bodies = getattr(cls, "bodies", []) + [len(r.body)]
        cls.text = wait_lines(cls.text_path, 4)
        cls.json = [json.loads(l) for l in wait_lines(cls.json_path, 4)]

    def test_statuses(self):
        self.assertEqual([s for _, s in self.expect], [200, 404, 503, 504])

    def test_default_format_lines(self):
        self.assertEqual(len(self.text), 4, self.text)
        parsed = [DEFAULT_LINE.match(l) for l in self.text]
        for l, m in zip(self.text, parsed):
            self.assertIsNotNone(m, "not Envoy's default format: %r" % l)
        # Each worker has its own buffer, so lines of different workers may interleave: key by path.
        by_path = {m.group(3): m for m in parsed}
        ok, nr, uf, ut = (by_path[p] for p in ("/up/name", "/nothing", "/dead/x", "/slow/2000"))
        self.assertEqual(ok.group(2, 3, 4, 5, 6), ("GET", "/up/name", "HTTP/1.1", "200", "-"))
        self.assertEqual(ok.group(12), "ua-test")
        self.assertEqual(ok.group(15), "127.0.0.1:%d" % self.up.port)
        self.assertRegex(ok.group(13), r"^[0-9a-f-]{36}$")   # x-request-id
        self.assertRegex(ok.group(10), r"^\d+$")              # upstream service time
        self.assertEqual((nr.group(5), nr.group(6), nr.group(15)), ("404", "NR", "-"))
        self.assertEqual((uf.group(5), uf.group(6)), ("503", "UF"))
        self.assertEqual((ut.group(5), ut.group(6)), ("504", "UT"))
        self.assertEqual(ut.group(8), str(len("upstream request timeout")))

    def test_json_format_lines(self):
        self.assertEqual(len(self.json), 4)
        by_path = {j["path"]: j for j in self.json}
        ok, nr, uf, ut = (by_path[p] for p in ("/up/name", "/nothing", "/dead/x", "/slow/2000"))
        self.assertEqual(ok["code"], 200)                      # typed: a number
        self.assertEqual(ok["flags"], "-")
        self.assertEqual(ok["cluster"], "up")
        self.assertEqual(ok["details"], "via_upstream")
        self.assertEqual(ok["tx"], self.bodies[0])              # body bytes sent downstream
        self.assertEqual((nr["code"], nr["flags"], nr["details"]), (404, "NR", "route_not_found"))
        self.assertEqual(nr["cluster"], None)
        self.assertEqual((uf["code"], uf["flags"], uf["cluster"]), (503, "UF", "dead"))
        self.assertEqual((ut["code"], ut["flags"], ut["details"]),
                         (504, "UT", "upstream_response_timeout"))

    def test_reopen_after_rotation(self):
        rotated = self.text_path + ".1"
        os.rename(self.text_path, rotated)
        os.kill(self.proxy.pid, signal.SIGUSR1)
        # The reopen is done by the log thread: wait for the new file, then log into it.
        deadline = time.monotonic() + 5 * harness.SLOW
        while not os.path.exists(self.text_path) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(os.path.exists(self.text_path), "SIGUSR1 did not reopen the log")
        harness.request(self.port, "GET", "/up/name")
        lines = wait_lines(self.text_path, 1)
        self.assertEqual(len(lines), 1)
        self.assertIn('"GET /up/name HTTP/1.1" 200', lines[0])
        # And through the admin endpoint.
        os.rename(self.text_path, rotated + "2")
        with harness.RawConn(self.admin) as c:
            c.send("POST /reopen_logs HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
            self.assertEqual(c.read_response().status, 200)
        harness.request(self.port, "GET", "/up/name")
        self.assertEqual(len(wait_lines(self.text_path, 1)), 1)


class AdminAccessLog(harness.ProxyTest):
    """Bootstrap admin.access_log_path (what the App Mesh agent sets) and admin.access_log."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="outrider-adminlog-")
        cls.path_log = os.path.join(cls.dir, "admin_access.log")
        cls.json_log = os.path.join(cls.dir, "admin_access.json")
        port, cls.admin = free_ports(2)
        cfg = bootstrap(cls.admin, [http_listener("l", port, [virtual_host("all", [])])], [])
        cfg["admin"]["access_log_path"] = cls.path_log
        cfg["admin"]["access_log"] = [{
            "name": "envoy.access_loggers.file",
            "typed_config": {"@type": FILE_LOG, "path": cls.json_log,
                             "log_format": {"json_format": {"code": "%RESPONSE_CODE%",
                                                            "path": "%REQ(:PATH)%"}}}}]
        cls.start_proxy(cfg, args=["--file-flush-interval-msec", "50"])

    def test_admin_requests_are_logged(self):
        harness.http_get(self.admin, "/server_info")
        lines = wait_lines(self.path_log, 2)     # /ready from the harness, then /server_info
        self.assertTrue(any('"GET /server_info HTTP/1.1" 200' in l for l in lines), lines)
        for l in lines:
            self.assertIsNotNone(DEFAULT_LINE.match(l), l)
        entries = [json.loads(l) for l in wait_lines(self.json_log, 2)]
        self.assertIn({"code": 200, "path": "/server_info"}, entries)


class BadFormat(unittest.TestCase):
    def test_bad_format_is_a_config_error(self):
        port, admin = free_ports(2)
        logs = [{"name": "envoy.access_loggers.file",
                 "typed_config": {"@type": FILE_LOG, "path": "/dev/null",
                                  "log_format": {"text_format_source": {
                                      "inline_string": "%NOT_AN_OPERATOR%\n"}}}}]
        cfg = bootstrap(admin, [http_listener("l", port, [virtual_host("all", [])],
                                              access_log=logs)], [])
        path = write_temp(harness.to_yaml(cfg))
        p = run_outrider(["--mode", "validate", "-c", path])
        self.assertEqual(p.returncode, 1)
        err = p.stderr.decode()
        self.assertIn("access_log[0]", err)
        self.assertIn("NOT_AN_OPERATOR", err)


if __name__ == "__main__":
    harness.main()
