"""Large bodies (issue 2 acceptance: "a 64 MiB upload and download whose SHA-256 matches end to
end"): curl uploads 64 MiB with content-length and with chunked framing to /sha256 (the upstream
hashes what it received), and downloads 64 MiB with content-length and chunked framing (the test
hashes what curl wrote). The same size runs under ASan."""

import os

import harness
from harness import (bootstrap, curl, file_sha256, free_ports, http_listener, pattern_sha256,
                     route, static_cluster, virtual_host)

SIZE = 64 * 1024 * 1024


class Bodies(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        (cls.up,) = cls.start_upstreams("up")
        cls.port, admin = free_ports(2)
        cfg = bootstrap(admin, [http_listener("l", cls.port,
                                              [virtual_host("all", [route("/", "up",
                                                                          timeout="0s")])])],
                        [static_cluster("up", [cls.up.port])])
        cls.start_proxy(cfg)
        cls.file = harness.write_pattern_file(os.path.join(cls.proxy.workdir, "64m.bin"), SIZE)
        cls.want = pattern_sha256(SIZE)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def test_upload_content_length(self):
        r = curl(self.url("/sha256"), ["--data-binary", "@" + self.file], timeout=90)
        self.assertEqual((r.rc, r.status), (0, 200), r)
        self.assertEqual(r.body.decode(), self.want)
        self.assertEqual(r.header("x-body-length"), str(SIZE))

    def test_upload_chunked(self):
        r = curl(self.url("/sha256"), ["-T", self.file, "-H", "Transfer-Encoding: chunked"],
                 timeout=90)
        self.assertEqual((r.rc, r.status), (0, 200), r)
        self.assertEqual(r.body.decode(), self.want)

    def test_download_content_length(self):
        out = os.path.join(self.proxy.workdir, "dl-cl.bin")
        r = curl(self.url("/bytes/%d" % SIZE), body_to=out, timeout=90)
        self.assertEqual((r.rc, r.status), (0, 200), r)
        self.assertEqual(r.header("content-length"), str(SIZE))
        self.assertEqual(os.path.getsize(out), SIZE)
        self.assertEqual(file_sha256(out), self.want)
        os.unlink(out)

    def test_download_chunked(self):
        out = os.path.join(self.proxy.workdir, "dl-chunked.bin")
        r = curl(self.url("/bytes/%d?chunked=1&chunk=100003" % SIZE), body_to=out, timeout=90)
        self.assertEqual((r.rc, r.status), (0, 200), r)
        self.assertEqual(os.path.getsize(out), SIZE)
        self.assertEqual(file_sha256(out), self.want)
        os.unlink(out)


if __name__ == "__main__":
    harness.main()
