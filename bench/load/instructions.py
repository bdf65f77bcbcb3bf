#!/usr/bin/env python3
"""User-space instructions per proxied request, counted by callgrind: a figure that does not move
with the load of a shared machine, for telling whether a change to the request path helped.

Starts the benchmark's nginx origin (bench.py), runs Outrider with one worker under
`valgrind --tool=callgrind`, collecting only inside the worker thread (worker_main), sends N
HTTP/1.1 requests over 50 keep-alive connections with `h2load --h1`, stops the proxy and divides.
Kernel work (the socket calls) is not counted: see bench.py for CPU time.

Usage: bench/load/instructions.py [path ...]     (default /100 /1k /64k)
  OUTRIDER=path (default build/outrider), N=requests per path (default 5000)
  OR_CALLGRIND_OUT=dir keeps each profile there for `callgrind_annotate`.
"""

import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench", os.path.join(HERE, "bench.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

N = int(os.environ.get("N", "5000"))
KEEP = os.environ.get("OR_CALLGRIND_OUT")


def count(b, path):
    ports = {k: bench.free_port() for k in ("h1", "h2c", "tls", "admin")}
    conf = os.path.join(b.work, "instr.yaml")
    with open(conf, "w") as f:
        f.write(bench.outrider_conf(b.work, ports, b.origin_port, 0, 1024))
    out = os.path.join(b.work, "callgrind.out")
    p = b.procs.start(["valgrind", "--tool=callgrind", "--collect-atstart=no",
                       "--toggle-collect=worker_main", "--callgrind-out-file=" + out,
                       bench.OUTRIDER, "-c", conf, "--concurrency", "1", "-l", "warning"],
                      b.proxy_cpu, os.path.join(b.work, "callgrind.log"))
    try:
        bench.wait_200(ports["h1"], path, time.monotonic() + 60, p, interval=0.05)
        r = subprocess.run(["h2load", "--h1", "-n", str(N), "-c", "50",
                            "http://127.0.0.1:%d%s" % (ports["h1"], path)],
                           capture_output=True, text=True, timeout=600)
        done = [x for x in r.stdout.splitlines() if x.startswith("requests:")]
        if "%d succeeded" % N not in (done[0] if done else ""):
            raise RuntimeError("h2load: %s" % (done or r.stdout[-300:]))
    finally:
        p.terminate()  # SIGTERM: the proxy drains and exits, callgrind writes its file
        try:
            p.wait(timeout=60)
        finally:
            b.procs.stop(p)
    ir = 0
    for f in glob.glob(out + "*"):
        with open(f) as fh:
            for line in fh:
                if line.startswith("summary:"):
                    ir += int(line.split()[1])
        if KEEP:
            os.makedirs(KEEP, exist_ok=True)
            shutil.copy(f, os.path.join(KEEP, "request%s.%s" % (path.replace("/", "_"),
                                                                 os.path.basename(f))))
    return ir / N


def main():
    if shutil.which("valgrind") is None or shutil.which("h2load") is None:
        sys.exit("instructions.py: needs valgrind and h2load (nghttp2-client)")
    paths = sys.argv[1:] or ["/100", "/1k", "/64k"]
    b = bench.Bench()
    try:
        b.prepare()
        print("%-8s %12s" % ("path", "instr/req"))
        for path in paths:
            print("%-8s %12.0f" % (path, count(b, path)), flush=True)
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
