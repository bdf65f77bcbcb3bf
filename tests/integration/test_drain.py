#!/usr/bin/env python3
"""Lifecycle and graceful drain (issue 3): with 200 requests in flight to a slow upstream, SIGTERM lets
every one complete with its full body, refuses new connections, and exits 0; the same through
POST /drain_listeners?graceful (connections keep being accepted, answered with Connection: close,
until --drain-time-s, then refused) followed by POST /quitquitquit. /ready and the ECS health check
stop saying LIVE while draining; /healthcheck/fail flips the state to DRAINING and /healthcheck/ok
back."""

import concurrent.futures
import socket
import subprocess
import time
import unittest

import harness
from harness import (Proxy, Upstream, bootstrap, free_ports, http_get, http_listener, route,
                     static_cluster, virtual_host)

IN_FLIGHT = 200
SLOW_MS = 1500


def config(port, admin, up_port):
    return bootstrap(admin, [http_listener("ingress", port, [virtual_host("all", [route("/", "up")])])],
                     [static_cluster("up", [up_port])])


def refused(port):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        return False
    except (ConnectionRefusedError, ConnectionResetError):
        # Reset: it landed in the backlog of a listening socket that was closing.
        return True
    finally:
        s.close()


def slow_request(port):
    return harness.request(port, "GET", "/slow/%d" % SLOW_MS, timeout=30.0)


def health_check(admin):
    cmd = "curl -s http://localhost:%d/server_info | grep state | grep -q LIVE" % admin
    return subprocess.run(["sh", "-c", cmd], timeout=10).returncode


def post(admin, path):
    with harness.RawConn(admin, timeout=5) as c:
        c.send("POST %s HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % path)
        return c.read_response()


class Drain(unittest.TestCase):
    def setUp(self):
        self.up = Upstream(name="up").start()
        self.port, self.admin = free_ports(2)
        self.proxy = Proxy(config(self.port, self.admin, self.up.port),
                           args=["--drain-time-s", "3"])
        self.proxy.start()

    def tearDown(self):
        self.proxy.cleanup()
        self.up.stop()

    def fire(self, pool):
        futures = [pool.submit(slow_request, self.port) for _ in range(IN_FLIGHT)]
        # Readiness signal: the upstream has every request in hand.
        self.assertTrue(self.up.wait_requests(IN_FLIGHT, timeout=20), "requests never arrived")
        return futures

    def assert_all_complete(self, futures):
        for f in futures:
            r = f.result(timeout=30)
            self.assertEqual((r.status, r.body), (200, b"slow\n"))

    def test_sigterm_completes_in_flight_and_exits_0(self):
        with concurrent.futures.ThreadPoolExecutor(IN_FLIGHT) as pool:
            futures = self.fire(pool)
            t0 = time.monotonic()
            self.proxy.proc.send_signal(15)
            deadline = time.monotonic() + 2
            while not refused(self.port) and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertTrue(refused(self.port), "new connections still accepted after SIGTERM")
            self.assertEqual(self.proxy.proc.wait(timeout=20), 0)
            self.assertLess(time.monotonic() - t0, 3 + 2 * harness.SLOW)
            self.assert_all_complete(futures)
        self.proxy.exit_code = 0
        self.proxy.check_clean_exit()

    def test_graceful_drain_then_quitquitquit(self):
        with concurrent.futures.ThreadPoolExecutor(IN_FLIGHT) as pool:
            futures = self.fire(pool)
            self.assertEqual(health_check(self.admin), 0)
            t0 = time.monotonic()
            self.assertEqual(post(self.admin, "/drain_listeners?graceful").status, 200)
            # Not LIVE any more, for /ready and for the ECS/EKS health check.
            status, _, body = http_get(self.admin, "/ready")
            self.assertEqual((status, body), (503, b"DRAINING\n"))
            self.assertNotEqual(health_check(self.admin), 0)
            # Within the drain window new connections are served, told to close.
            r = harness.request(self.port, "GET", "/name", headers={"Connection": "keep-alive"})
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("connection"), "close")
            # After it they are refused.
            deadline = t0 + 3 + 3 * harness.SLOW
            while not refused(self.port) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertTrue(refused(self.port), "still accepting after the drain time")
            self.assertGreater(time.monotonic() - t0, 2.5)
            self.assert_all_complete(futures)
            self.assertEqual(post(self.admin, "/quitquitquit").status, 200)
            self.assertEqual(self.proxy.proc.wait(timeout=20), 0)
        self.proxy.exit_code = 0
        self.proxy.check_clean_exit()

    def test_quitquitquit_waits_for_in_flight(self):
        with concurrent.futures.ThreadPoolExecutor(IN_FLIGHT) as pool:
            futures = self.fire(pool)
            self.assertEqual(post(self.admin, "/quitquitquit").status, 200)
            self.assertEqual(self.proxy.proc.wait(timeout=20), 0)
            self.assert_all_complete(futures)
        self.proxy.exit_code = 0
        self.proxy.check_clean_exit()

    def test_healthcheck_fail_and_ok(self):
        self.assertEqual(post(self.admin, "/healthcheck/fail").status, 200)
        self.assertEqual(http_get(self.admin, "/ready")[0], 503)
        self.assertNotEqual(health_check(self.admin), 0)
        # GET on a mutation is refused.
        self.assertNotEqual(http_get(self.admin, "/healthcheck/ok")[0], 200)
        self.assertEqual(post(self.admin, "/healthcheck/ok").status, 200)
        self.assertEqual(http_get(self.admin, "/ready"), (200, http_get(self.admin, "/ready")[1],
                                                          b"LIVE\n"))
        self.assertEqual(health_check(self.admin), 0)
        self.proxy.stop(check=True)

    def test_drain_inbound_only(self):
        self.proxy.stop(check=True)
        port2, admin2 = free_ports(2)
        cfg = config(self.port, admin2, self.up.port)
        cfg["static_resources"]["listeners"][0]["traffic_direction"] = "INBOUND"
        out = http_listener("egress", port2, [virtual_host("all", [route("/", "up")])])
        out["traffic_direction"] = "OUTBOUND"
        cfg["static_resources"]["listeners"].append(out)
        self.proxy = Proxy(cfg, args=["--drain-time-s", "1"])
        self.proxy.start()
        self.assertEqual(post(admin2, "/drain_listeners?inboundonly").status, 200)
        deadline = time.monotonic() + 3
        while not refused(self.port) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(refused(self.port), "inbound listener still accepting")
        r = harness.request(port2, "GET", "/name")
        self.assertEqual(r.status, 200, "outbound listener must keep serving")
        self.proxy.stop(check=True)

    def test_logging_endpoint(self):
        r = post(self.admin, "/logging?level=debug")
        self.assertEqual(r.status, 200)
        self.assertIn(b"router: debug", r.body)
        r = post(self.admin, "/logging?router=trace")
        self.assertIn(b"router: trace", r.body)
        self.assertIn(b"http: debug", r.body)
        self.assertEqual(post(self.admin, "/logging?level=bogus").status, 400)
        self.proxy.stop(check=True)


if __name__ == "__main__":
    harness.main()
