"""Command line (issue 2, item 2 and acceptance "outrider --mode validate accepts the example
configs in docs/examples/ and rejects a broken one with the field path").

* --mode validate accepts every docs/examples/*.yaml (and *.json): exit 0, prints
  "configuration '<path>' OK", and opens no network socket: strace shows no AF_INET/AF_INET6
  socket(), and the listener/admin ports of a config are held by this test while it validates.
* it rejects every docs/examples/broken/*.yaml with exit 1 and the field path named in the file's
  "# expect-error:" comment on stderr; also a missing file, YAML syntax errors, and an error
  merged in through --config-yaml.
* lowerCamelCase keys are accepted like snake_case ones.
* unknown flags are errors; the Envoy flags of issue 2 and those the App Mesh agent passes are
  accepted.
* --version prints
  "\\n<argv0>  version: <40 hex>/<x.y.z>/Clean|Modified/RELEASE|DEBUG/BoringSSL\\n".
* docs/examples/default.yaml (the `make run` config, ports rewritten to free ones) serves its
  explanation on / and proxies /app/ to the local app with the prefix rewritten.
"""

import glob
import json
import os
import re
import shutil
import socket

import harness
from harness import run_outrider

EXAMPLES = os.path.join(harness.SOURCE_DIR, "docs", "examples")
GOOD = sorted(glob.glob(os.path.join(EXAMPLES, "*.yaml"))
              + glob.glob(os.path.join(EXAMPLES, "*.json")))
BROKEN = sorted(glob.glob(os.path.join(EXAMPLES, "broken", "*.yaml")))
VERSION_RE = re.compile(r"^\n(?P<argv0>\S+)  version: [0-9a-f]{40}/\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?"
                        r"/(Clean|Modified)/(RELEASE|DEBUG)/BoringSSL\n$")
NO_LSAN = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"}


def expected_error(path):
    with open(path) as f:
        for line in f:
            m = re.match(r"^#\s*expect-error:\s*(\S+)", line)
            if m:
                return m.group(1)
    raise AssertionError("%s has no '# expect-error:' line" % path)


def camel(key):
    if key.startswith("@"):
        return key
    head, *rest = key.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def camelize(obj):
    if isinstance(obj, dict):
        return {camel(k): camelize(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [camelize(v) for v in obj]
    return obj


def sample_config(listener_port, admin_port, upstream_port=8080):
    return harness.bootstrap(admin_port, [harness.http_listener(
        "l", listener_port, [harness.virtual_host("all", [harness.route("/", "app")])])],
        [harness.static_cluster("app", [upstream_port])])


class Validate(harness.unittest.TestCase):
    def test_examples_exist(self):
        self.assertTrue(any(p.endswith("default.yaml") for p in GOOD), GOOD)
        self.assertGreaterEqual(len(GOOD), 3)
        self.assertGreaterEqual(len(BROKEN), 2)

    def test_examples_validate(self):
        for path in GOOD:
            with self.subTest(path=os.path.basename(path)):
                p = run_outrider(["--mode", "validate", "-c", path])
                out = p.stdout.decode() + p.stderr.decode()
                self.assertEqual(p.returncode, 0, "%s rejected:\n%s" % (path, out))
                self.assertIn("configuration '%s' OK" % path, out)

    def test_validate_opens_no_socket_strace(self):
        if not shutil.which("strace"):
            self.skipTest("strace not installed")
        trace = harness.write_temp("", suffix=".strace")
        try:
            for path in GOOD:
                p = harness.subprocess.run(
                    ["strace", "-f", "-qq", "-e", "trace=socket,bind,listen,connect", "-o", trace,
                     harness.OUTRIDER, "--mode", "validate", "-c", path],
                    stdout=harness.subprocess.PIPE, stderr=harness.subprocess.PIPE,
                    timeout=60 * harness.SLOW, env=dict(os.environ, **NO_LSAN))
                if p.returncode != 0 and b"ptrace" in p.stderr:
                    self.skipTest("ptrace not permitted here: %r" % p.stderr[-200:])
                self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
                calls = open(trace).read()
                inet = [l for l in calls.splitlines()
                        if re.search(r"socket\((AF_INET|AF_INET6|PF_INET)", l)]
                self.assertEqual(inet, [], "%s: validate opened sockets" % path)
        finally:
            os.unlink(trace)

    def test_validate_with_ports_held(self):
        lport, aport = harness.free_ports(2)
        held = []
        for port in (lport, aport):
            s = socket.socket()
            s.bind(("127.0.0.1", port))
            s.listen(1)
            held.append(s)
        try:
            cfg = harness.write_temp(harness.to_yaml(sample_config(lport, aport)))
            p = run_outrider(["--mode", "validate", "-c", cfg])
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            self.assertIn("configuration '%s' OK" % cfg, (p.stdout + p.stderr).decode())
            os.unlink(cfg)
        finally:
            for s in held:
                s.close()

    def test_broken_examples_rejected_with_path(self):
        for path in BROKEN:
            with self.subTest(path=os.path.basename(path)):
                p = run_outrider(["--mode", "validate", "-c", path])
                err = p.stderr.decode()
                self.assertEqual(p.returncode, 1, "%s: exit %d\n%s" % (path, p.returncode, err))
                self.assertIn(expected_error(path), err)
                self.assertNotIn("' OK", p.stdout.decode())

    def test_missing_file(self):
        p = run_outrider(["--mode", "validate", "-c", "/nonexistent/outrider.yaml"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("/nonexistent/outrider.yaml", p.stderr.decode())

    def test_yaml_syntax_error(self):
        cfg = harness.write_temp("admin:\n  address: [unclosed\n static_resources: {\n")
        try:
            p = run_outrider(["--mode", "validate", "-c", cfg])
            self.assertEqual(p.returncode, 1, p.stderr.decode())
            self.assertTrue(p.stderr.strip(), "no error message")
        finally:
            os.unlink(cfg)

    def test_wrong_type(self):
        bad = sample_config(10000, 9901)
        bad["static_resources"]["clusters"][0]["connect_timeout"] = ["1s"]
        bad["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = "x"
        cfg = harness.write_temp(harness.to_yaml(bad))
        try:
            p = run_outrider(["--mode", "validate", "-c", cfg])
            self.assertEqual(p.returncode, 1)
            err = p.stderr.decode()
            self.assertTrue("static_resources.clusters[0].connect_timeout" in err
                            or "static_resources.listeners[0].address.socket_address.port_value"
                            in err, err)
        finally:
            os.unlink(cfg)

    def test_camel_case_keys(self):
        cfg = harness.write_temp(json.dumps(camelize(sample_config(10000, 9901)), indent=1),
                                 suffix=".json")
        try:
            p = run_outrider(["--mode", "validate", "-c", cfg])
            self.assertEqual(p.returncode, 0, p.stderr.decode())
        finally:
            os.unlink(cfg)

    def test_config_yaml_merge_error(self):
        base = os.path.join(EXAMPLES, "default.yaml")
        extra = ('{static_resources: {clusters: [{name: extra, type: STATIC, '
                 'connect_timeout: 1s, lb_polcy: RANDOM}]}}')
        p = run_outrider(["--mode", "validate", "-c", base, "--config-yaml", extra])
        self.assertEqual(p.returncode, 1, p.stdout.decode() + p.stderr.decode())
        self.assertIn("lb_polcy", p.stderr.decode())

    def test_config_yaml_merge_ok(self):
        base = os.path.join(EXAMPLES, "default.yaml")
        extra = ('{static_resources: {clusters: [{name: extra, type: STATIC, '
                 'connect_timeout: 1s, lb_policy: RANDOM}]}}')
        p = run_outrider(["--mode", "validate", "-c", base, "--config-yaml", extra])
        self.assertEqual(p.returncode, 0, p.stderr.decode())

    def test_issue_flags_accepted(self):
        path = os.path.join(EXAMPLES, "default.yaml")
        p = run_outrider(["--mode", "validate", "--config-path", path,
                          "--log-level", "warning", "--concurrency", "3",
                          "--service-cluster", "c1", "--service-node", "n1",
                          "--drain-time-s", "20"])
        self.assertEqual(p.returncode, 0, p.stderr.decode())

    def test_app_mesh_agent_flags_accepted(self):
        # What /usr/bin/agent passes to Envoy (REFERENCE 1.1): -c -l --concurrency
        # --drain-time-s --disable-hot-restart --skip-deprecated-logs.
        path = os.path.join(EXAMPLES, "default.yaml")
        p = run_outrider(["--mode", "validate", "-c", path, "-l", "info", "--concurrency", "2",
                          "--drain-time-s", "20", "--disable-hot-restart",
                          "--skip-deprecated-logs"])
        self.assertEqual(p.returncode, 0, p.stderr.decode())

    def test_unknown_flag(self):
        p = run_outrider(["--bogus-flag", "-c", os.path.join(EXAMPLES, "default.yaml"),
                          "--mode", "validate"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("bogus-flag", p.stderr.decode() + p.stdout.decode())

    def test_bad_mode(self):
        p = run_outrider(["--mode", "frobnicate", "-c", os.path.join(EXAMPLES, "default.yaml")])
        self.assertNotEqual(p.returncode, 0)

    def test_version(self):
        p = run_outrider(["--version"])
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        out = p.stdout.decode()
        m = VERSION_RE.match(out)
        self.assertIsNotNone(m, "version output %r" % out)
        self.assertEqual(m.group("argv0"), harness.OUTRIDER)


class DefaultConfigServes(harness.ProxyTest):
    """docs/examples/default.yaml with its three ports replaced by free ones."""

    @classmethod
    def setUpClass(cls):
        (cls.app,) = cls.start_upstreams("app")
        cls.port, admin = harness.free_ports(2)
        text = open(os.path.join(EXAMPLES, "default.yaml")).read()
        for old, new in (("port_value: 10000", cls.port), ("port_value: 9901", admin),
                         ("port_value: 8080", cls.app.port)):
            assert old in text, old
            text = text.replace(old, "port_value: %d" % new)
        cls.start_proxy(text, admin_port=admin, listener_ports=[cls.port])

    def test_root_explains(self):
        r = harness.curl("http://127.0.0.1:%d/" % self.port)
        self.assertEqual((r.rc, r.status), (0, 200), r)
        self.assertIn(b"Outrider", r.body)
        self.assertIn(b"/app/", r.body)
        self.assertIn(b"127.0.0.1:8080", r.body)

    def test_app_prefix_routed(self):
        r = harness.curl("http://127.0.0.1:%d/app/name" % self.port)
        self.assertEqual((r.rc, r.status, r.body), (0, 200, b"app"), r)
        r = harness.curl("http://127.0.0.1:%d/app/some/where?q=1" % self.port)
        self.assertEqual(r.body, b"ok GET /some/where?q=1\n")

    def test_app_redirect(self):
        r = harness.curl("http://127.0.0.1:%d/app" % self.port)
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("location"), "http://127.0.0.1:%d/app/" % self.port)


if __name__ == "__main__":
    harness.main()
