'use strict';
// Running an Outrider for a test: free loopback ports, readiness by polling admin /ready, stop by
// PID (SIGTERM, SIGKILL after a bound) returning the exit code.

const net = require('node:net');

const SLOW = process.env.OR_SANITIZED === '1' ? 3 : 1;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function fetchText(port, p) {
  const r = await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(10000 * SLOW) });
  return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
}

async function waitReady(proc, port, log) {
  const deadline = Date.now() + 20000 * SLOW;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`outrider exited ${proc.exitCode}:\n${log()}`);
    try {
      const r = await fetchText(port, '/ready');
      if (r.status === 200) return;
    } catch (e) { /* not listening yet */ }
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`outrider not ready:\n${log()}`);
}

function stop(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) { resolve(proc.exitCode); return; }
    const t = setTimeout(() => proc.kill('SIGKILL'), 15000 * SLOW);
    proc.once('exit', (code, sig) => { clearTimeout(t); resolve(code === null ? sig : code); });
    process.kill(proc.pid, 'SIGTERM');
  });
}

module.exports = { SLOW, freePort, fetchText, waitReady, stop };
