'use strict';
// /stats/prometheus of a RUNNING Outrider parsed by a real Prometheus text-format parser
// (npm parse-prometheus-text-format), and its counters matched against the requests this test
// sent, per cluster and per response class; also /stats?format=json as the App Mesh agent reads it
// (stats.#(name=="control_plane.connected_state").value) and /stats text lines.
// Env: OUTRIDER (binary), OR_SANITIZED.

const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const parsePrometheus = require('parse-prometheus-text-format');
const { SLOW, freePort, fetchText: get, waitReady, stop } = require('./lib/proxy');

const SRC = process.env.OR_SOURCE_DIR || path.resolve(__dirname, '..', '..');
const OUTRIDER = process.env.OUTRIDER || path.join(SRC, 'build', 'outrider');
const OK = 23, ERR = 7, MISS = 4;

function sample(families, name, labels) {
  const fam = families.find((f) => f.name === name);
  assert.ok(fam, `no metric family ${name}`);
  const m = fam.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels && x.labels[k] === v));
  assert.ok(m, `no ${name}${JSON.stringify(labels)} in ${JSON.stringify(fam.metrics)}`);
  return Number(m.value);
}

async function main() {
  let passed = 0, failed = 0;
  const check = async (name, fn) => {
    try { await fn(); passed++; console.log(`ok - ${name}`); } catch (e) { failed++; console.log(`not ok - ${name}\n${e.stack}`); }
  };

  const upstream = http.createServer((req, res) => {
    res.writeHead(req.url.includes('/err') ? 500 : 200, { 'content-type': 'text/plain' });
    res.end('x');
  });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  const upPort = upstream.address().port;
  const [port, admin] = [await freePort(), await freePort()];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outrider-prom-'));
  const cfg = {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: admin } } },
    static_resources: {
      listeners: [{
        name: 'ingress', address: { socket_address: { address: '127.0.0.1', port_value: port } },
        filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          stat_prefix: 'ingress',
          route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [
            { match: { prefix: '/app/' }, route: { cluster: 'app' } }] }] },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
        } }] }],
      }],
      clusters: [{ name: 'app', type: 'STATIC', load_assignment: { cluster_name: 'app', endpoints: [{ lb_endpoints: [
        { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: upPort } } } }] }] } }],
    },
  };
  const cfgPath = path.join(tmp, 'bootstrap.json');
  fs.writeFileSync(cfgPath, JSON.stringify(cfg));
  let log = '';
  const proc = spawn(OUTRIDER, ['-c', cfgPath, '--concurrency', '2', '-l', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  try {
    await waitReady(proc, admin, () => log);
    for (let i = 0; i < OK; i++) assert.strictEqual((await get(port, '/app/ok')).status, 200);
    for (let i = 0; i < ERR; i++) assert.strictEqual((await get(port, '/app/err')).status, 500);
    for (let i = 0; i < MISS; i++) assert.strictEqual((await get(port, '/nothing')).status, 404);

    const prom = await get(admin, '/stats/prometheus');
    let families;
    await check('the Prometheus parser accepts /stats/prometheus', async () => {
      assert.strictEqual(prom.status, 200);
      families = parsePrometheus(prom.body);
      assert.ok(families.length > 20, `only ${families.length} families`);
      for (const f of families) {
        assert.match(f.name, /^envoy_[a-zA-Z0-9_:]+$/);
        assert.ok(['COUNTER', 'GAUGE', 'HISTOGRAM', 'SUMMARY', 'UNTYPED'].includes(f.type), f.type);
      }
    });
    await check('upstream counters per cluster and response class', async () => {
      assert.strictEqual(sample(families, 'envoy_cluster_upstream_rq_xx', { envoy_cluster_name: 'app', envoy_response_code_class: '2' }), OK);
      assert.strictEqual(sample(families, 'envoy_cluster_upstream_rq_xx', { envoy_cluster_name: 'app', envoy_response_code_class: '5' }), ERR);
      assert.strictEqual(sample(families, 'envoy_cluster_upstream_rq_total', { envoy_cluster_name: 'app' }), OK + ERR);
      assert.strictEqual(sample(families, 'envoy_cluster_upstream_rq', { envoy_cluster_name: 'app', envoy_response_code: '500' }), ERR);
    });
    await check('downstream counters per HTTP connection manager and class', async () => {
      const hcm = { envoy_http_conn_manager_prefix: 'ingress' };
      assert.strictEqual(sample(families, 'envoy_http_downstream_rq_xx', { ...hcm, envoy_response_code_class: '2' }), OK);
      assert.strictEqual(sample(families, 'envoy_http_downstream_rq_xx', { ...hcm, envoy_response_code_class: '5' }), ERR);
      assert.strictEqual(sample(families, 'envoy_http_downstream_rq_xx', { ...hcm, envoy_response_code_class: '4' }), MISS);
      assert.strictEqual(sample(families, 'envoy_http_no_route', hcm), MISS);
      assert.strictEqual(sample(families, 'envoy_http_downstream_rq_total', hcm), OK + ERR + MISS);
    });
    await check('/stats?format=json as the App Mesh agent reads it', async () => {
      const r = await get(admin, '/stats?format=json');
      const stats = JSON.parse(r.body).stats;
      const cp = stats.find((s) => s.name === 'control_plane.connected_state');
      assert.ok(cp && cp.value === 0, JSON.stringify(cp));
      const live = stats.find((s) => s.name === 'server.live');
      assert.ok(live && live.value === 1, JSON.stringify(live));
    });
    await check('/stats text lines and filters', async () => {
      const r = await get(admin, '/stats?filter=^cluster\\.app\\.upstream_rq_(2xx|5xx)$');
      assert.strictEqual(r.body, `cluster.app.upstream_rq_2xx: ${OK}\ncluster.app.upstream_rq_5xx: ${ERR}\n`);
      const used = await get(admin, '/stats?usedonly&filter=upstream_rq_5');
      assert.ok(!/upstream_rq_503/.test(used.body), used.body);
    });
  } finally {
    const code = await stop(proc);
    upstream.close();
    if (code !== 0) { failed++; console.log(`not ok - outrider exit ${code}\n${log}`); }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.log(e.stack); console.log('0 passed, 1 failed'); process.exit(1); });
