'use strict';
// /config_dump, /clusters?format=json and /listeners?format=json of a RUNNING Outrider, checked
// against the REAL Envoy protos shipped in @grpc/grpc-js-xds:
//   * every key of the JSON is a field of Envoy's message (envoy.admin.v3.ConfigDump, Clusters,
//     Listeners, and every type inside an Any, looked up by its "@type" in Envoy's protos), every
//     value has that field's JSON form (enum names, int64 as strings, RFC 3339 timestamps, ...);
//   * the JSON loads back through Outrider's own loader (or_config_pack), and the binary it packs
//     decodes with Envoy's protos to exactly the JSON's content;
//   * the dumped bootstrap is the configured one (plus node.user_agent_name "envoy", as Envoy).
//
// Env: OUTRIDER (binary), OR_BUILD_DIR (dir with or_config_pack), OR_SOURCE_DIR (repo root).

const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const YAML = require('yaml');
const { protobuf, OUR_PROTOS, ENVOY_DIRS, listProtos, loadRoot } = require('./lib/protos');
const { SLOW, freePort, fetchText, waitReady, stop } = require('./lib/proxy');

const SRC = process.env.OR_SOURCE_DIR || path.resolve(__dirname, '..', '..');
const BUILD = process.env.OR_BUILD_DIR || path.join(SRC, 'build');
const OUTRIDER = process.env.OUTRIDER || path.join(BUILD, 'outrider');
const PACK = path.join(BUILD, 'or_config_pack');

// ---- Envoy's protos ----------------------------------------------------------------------------

// The real Envoy definitions of every file of our subset (admin protos included).
const envoy = loadRoot(ENVOY_DIRS, listProtos(OUR_PROTOS));

// ---- canonical proto3 JSON, computed from Envoy's descriptors only ----------------------------

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value',
  'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `google.protobuf.${n}`));
const LONGS = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const INTS = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);

function fullName(t) { return t.fullName.replace(/^\./, ''); }
function camel(s) { return s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()); }
function get(v, snake) {
  for (const k of [snake, camel(snake)]) {
    if (Object.prototype.hasOwnProperty.call(v, k)) return { has: true, val: v[k] };
  }
  return { has: false };
}

function fraction(nanos) {
  if (nanos === 0) return '';
  if (nanos % 1e6 === 0) return '.' + String(nanos / 1e6).padStart(3, '0');
  if (nanos % 1e3 === 0) return '.' + String(nanos / 1e3).padStart(6, '0');
  return '.' + String(nanos).padStart(9, '0');
}

function formatDuration(seconds, nanos) {
  const neg = seconds < 0 || nanos < 0;
  return `${neg ? '-' : ''}${Math.abs(seconds)}${fraction(Math.abs(nanos))}s`;
}

// protobuf's Timestamp JSON: UTC, "Z", 0/3/6/9 fraction digits.
function formatTimestamp(seconds, nanos) {
  const iso = new Date(seconds * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return iso.slice(0, 19) + fraction(nanos) + 'Z';
}

function enumName(e, v) {
  if (typeof v === 'string') {
    assert.ok(v in e.values, `${v} is not a value of ${e.fullName}`);
    return v;
  }
  const name = e.valuesById[v];
  assert.ok(name !== undefined, `${v} is not a value of ${e.fullName}`);
  return name;
}

// Decoded protobufjs message -> canonical JSON value (set fields only, snake_case names).
function canonDecoded(type, msg) {
  const name = fullName(type);
  if (name === 'google.protobuf.Duration') return formatDuration(Number(msg.seconds || 0), msg.nanos || 0);
  if (name === 'google.protobuf.Timestamp') return formatTimestamp(Number(msg.seconds || 0), msg.nanos || 0);
  if (WRAPPERS.has(name)) return canonScalar(type.fields.value, msg.value);
  if (name === 'google.protobuf.Struct') {
    const o = {};
    for (const [k, v] of Object.entries(msg.fields || {})) o[k] = canonPbValue(v);
    return o;
  }
  if (name === 'google.protobuf.Value') return canonPbValue(msg);
  if (name === 'google.protobuf.ListValue') return (msg.values || []).map(canonPbValue);
  if (name === 'google.protobuf.Any') {
    const url = get(msg, 'type_url').val;
    if (!url) return {};
    const inner = envoy.lookupType(url.slice(url.lastIndexOf('/') + 1));
    const val = canonDecoded(inner, inner.decode(msg.value));
    return inner.fullName.startsWith('.google.protobuf.') ? { '@type': url, value: val } : { '@type': url, ...val };
  }
  const out = {};
  for (const f of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(msg, f.name)) continue;
    const v = msg[f.name];
    if (f.map) {
      if (Object.keys(v).length === 0) continue;
      out[f.name] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonField(f, x)]));
    } else if (f.repeated) {
      if (v.length === 0) continue;
      out[f.name] = v.map((x) => canonField(f, x));
    } else {
      out[f.name] = canonField(f, v);
    }
  }
  return out;
}

function canonPbValue(v) {
  const st = get(v, 'struct_value');
  if (st.has) return canonDecoded(envoy.lookupType('google.protobuf.Struct'), st.val);
  const lv = get(v, 'list_value');
  if (lv.has) return (lv.val.values || []).map(canonPbValue);
  for (const k of ['string_value', 'number_value', 'bool_value']) {
    const x = get(v, k);
    if (x.has) return x.val;
  }
  return null;
}

function canonField(f, v) {
  if (f.resolvedType instanceof protobuf.Type) return canonDecoded(f.resolvedType, v);
  return canonScalar(f, v);
}

function canonScalar(f, v) {
  if (f.resolvedType instanceof protobuf.Enum) return enumName(f.resolvedType, v);
  if (LONGS.has(f.type)) return typeof v === 'object' && v !== null ? v.toString() : String(v);
  if (f.type === 'bytes') return Buffer.from(v).toString('base64');
  return v;
}

// JSON text (parsed) -> canonical JSON, strictly against Envoy's descriptors: unknown keys, wrong
// value forms, unknown enum names and unknown "@type"s are assertion failures.
function canonJson(type, obj, where) {
  const name = fullName(type);
  if (name === 'google.protobuf.Duration') {
    assert.match(String(obj), /^-?\d+(\.\d{3}|\.\d{6}|\.\d{9})?s$/, `${where}: Duration form`);
    return obj;
  }
  if (name === 'google.protobuf.Timestamp') {
    assert.match(String(obj), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$/, `${where}: Timestamp form`);
    return obj;
  }
  if (WRAPPERS.has(name)) return canonJsonScalar(type.fields.value, obj, where);
  if (name === 'google.protobuf.Struct' || name === 'google.protobuf.Value' ||
      name === 'google.protobuf.ListValue') return obj;
  if (name === 'google.protobuf.Any') {
    if (Object.keys(obj).length === 0) return {};
    const url = obj['@type'];
    assert.ok(typeof url === 'string' && url.startsWith('type.googleapis.com/'), `${where}: @type ${url}`);
    assert.strictEqual(Object.keys(obj)[0], '@type', `${where}: "@type" must come first`);
    const inner = envoy.lookupType(url.slice(url.lastIndexOf('/') + 1));
    if (inner.fullName.startsWith('.google.protobuf.')) {
      return { '@type': url, value: canonJson(inner, obj.value, where) };
    }
    const rest = { ...obj };
    delete rest['@type'];
    return { '@type': url, ...canonJson(inner, rest, `${where}<${fullName(inner)}>`) };
  }
  assert.ok(obj && typeof obj === 'object' && !Array.isArray(obj), `${where}: expected an object`);
  const out = {};
  for (const [key, v] of Object.entries(obj)) {
    const f = type.fields[key];
    assert.ok(f, `${where}.${key}: not a field of Envoy's ${name}`);
    const w = `${where}.${f.name}`;
    if (f.map) out[f.name] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonJsonField(f, x, w)]));
    else if (f.repeated) {
      assert.ok(Array.isArray(v) && v.length > 0, `${w}: a non-empty array`);
      out[f.name] = v.map((x, i) => canonJsonField(f, x, `${w}[${i}]`));
    } else out[f.name] = canonJsonField(f, v, w);
  }
  return out;
}

function canonJsonField(f, v, where) {
  if (f.resolvedType instanceof protobuf.Type) return canonJson(f.resolvedType, v, where);
  return canonJsonScalar(f, v, where);
}

function canonJsonScalar(f, v, where) {
  if (f.resolvedType instanceof protobuf.Enum) {
    assert.strictEqual(typeof v, 'string', `${where}: enums print by name`);
    return enumName(f.resolvedType, v);
  }
  if (LONGS.has(f.type)) {
    assert.match(String(v), /^-?\d+$/, `${where}: int64`);
    assert.strictEqual(typeof v, 'string', `${where}: 64-bit integers print as strings`);
    return v;
  }
  if (INTS.has(f.type)) {
    assert.ok(Number.isInteger(v), `${where}: integer`);
    return v;
  }
  if (f.type === 'bool') { assert.strictEqual(typeof v, 'boolean', where); return v; }
  if (f.type === 'string') { assert.strictEqual(typeof v, 'string', where); return v; }
  if (f.type === 'bytes') return Buffer.from(v, 'base64').toString('base64');
  if (f.type === 'double' || f.type === 'float') return v;
  throw new Error(`${where}: unexpected type ${f.type}`);
}

// YAML config (as the proxy got it) -> canonical JSON, defaults dropped as they are on the wire.
function canonYaml(type, obj, where) {
  const name = fullName(type);
  if (name === 'google.protobuf.Duration') {
    const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(String(obj));
    const sign = m[1] ? -1 : 1;
    return formatDuration(sign * Number(m[2]), sign * Number((m[3] || '').padEnd(9, '0')));
  }
  if (WRAPPERS.has(name)) return canonJsonScalarLoose(type.fields.value, obj);
  if (name === 'google.protobuf.Struct' || name === 'google.protobuf.Value' ||
      name === 'google.protobuf.ListValue') return obj;
  if (name === 'google.protobuf.Any') {
    const url = obj['@type'];
    const inner = envoy.lookupType(url.slice(url.lastIndexOf('/') + 1));
    const rest = { ...obj };
    delete rest['@type'];
    return { '@type': url, ...canonYaml(inner, rest, where) };
  }
  const out = {};
  for (const [key, v] of Object.entries(obj)) {
    const f = type.fields[key];
    assert.ok(f, `${where}.${key}: sample uses a field Envoy does not have`);
    if (f.map) out[f.name] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonYamlField(f, x, where)]));
    else if (f.repeated) out[f.name] = v.map((x) => canonYamlField(f, x, where));
    else {
      const c = canonYamlField(f, v, where);
      const scalar = !(f.resolvedType instanceof protobuf.Type);
      const isDefault = c === 0 || c === '0' || c === '' || c === false ||
        (f.resolvedType instanceof protobuf.Enum && f.resolvedType.values[c] === 0);
      if (scalar && !f.partOf && isDefault) continue;
      out[f.name] = c;
    }
  }
  return out;
}

function canonYamlField(f, v, where) {
  if (f.resolvedType instanceof protobuf.Type) return canonYaml(f.resolvedType, v, where);
  return canonJsonScalarLoose(f, v);
}

function canonJsonScalarLoose(f, v) {
  if (f.resolvedType instanceof protobuf.Enum) return enumName(f.resolvedType, v);
  if (LONGS.has(f.type)) return String(v);
  if (INTS.has(f.type)) return Number(v);
  return v;
}

// ---- the proxy ----------------------------------------------------------------------------------

function packJson(typeName, text, tmp) {
  const file = path.join(tmp, `${typeName}.json`);
  fs.writeFileSync(file, text);
  const r = spawnSync(PACK, [typeName, file], { maxBuffer: 64 << 20 });
  assert.strictEqual(r.status, 0, `our loader rejects the ${typeName} JSON: ${r.stderr}`);
  return r.stdout;
}

// JSON -> strict canonical form (Envoy's descriptors) == what our loader packs, decoded by Envoy.
function roundTrip(typeName, text, tmp) {
  const type = envoy.lookupType(typeName);
  const fromJson = canonJson(type, JSON.parse(text), typeName);
  const fromWire = canonDecoded(type, type.decode(packJson(typeName, text, tmp)));
  assert.deepStrictEqual(fromWire, fromJson);
  assert.strictEqual(type.verify(type.decode(packJson(typeName, text, tmp))), null);
  return fromJson;
}

// ---- test ---------------------------------------------------------------------------------------

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'or_config_dump_'));
  const upstream = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok\n')); });
  await new Promise((res) => upstream.listen(0, '127.0.0.1', res));
  const upPort = upstream.address().port;
  const [adminPort, inPort, outPort] = [await freePort(), await freePort(), await freePort()];
  const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
  const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
  const config = `
node:
  id: mesh/sidecar
  cluster: app
  metadata: {aws.appmesh.mesh: demo, list: [1, true]}
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: ${adminPort}}}
static_resources:
  listeners:
  - name: lds_ingress_127.0.0.1_${inPort}
    address: {socket_address: {address: 127.0.0.1, port_value: ${inPort}}}
    traffic_direction: INBOUND
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          '@type': ${HCM}
          stat_prefix: ingress
          stream_idle_timeout: 0.5s
          route_config:
            name: rds_ingress
            virtual_hosts:
            - name: all
              domains: ['*']
              routes:
              - match: {prefix: /, headers: [{name: x-a, exact_match: b}]}
                route: {cluster: app, timeout: 1.25s}
              - match: {prefix: /}
                route: {cluster: app}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {'@type': ${ROUTER}}
  - name: egress
    address: {socket_address: {address: 127.0.0.1, port_value: ${outPort}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          '@type': ${HCM}
          stat_prefix: egress
          route_config:
            name: rds_egress
            virtual_hosts: [{name: svc, domains: ['*'], routes: [{match: {prefix: /}, direct_response: {status: 204}}]}]
  clusters:
  - name: app
    connect_timeout: 1s
    circuit_breakers: {thresholds: [{priority: HIGH, max_connections: 9}]}
    load_assignment:
      cluster_name: app
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${upPort}}}, hostname: app-host}
          load_balancing_weight: 2
  - name: empty
    connect_timeout: 0.5s
    type: STATIC
`;
  const cfgPath = path.join(tmp, 'outrider.yaml');
  fs.writeFileSync(cfgPath, config);
  let logText = '';
  const proc = spawn(OUTRIDER, ['-c', cfgPath, '--concurrency', '1', '-l', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.on('data', (d) => { logText += d; });
  proc.stderr.on('data', (d) => { logText += d; });
  const log = () => logText.slice(-4000);

  const tests = [];
  const test = (name, fn) => tests.push({ name, fn });

  test('config_dump: Envoy parts, valid against the real protos, loads back through our loader', async () => {
    const r = await fetchText(adminPort, '/config_dump');
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.type, 'application/json');
    assert.ok(r.body.endsWith('}\n'));
    const dump = roundTrip('envoy.admin.v3.ConfigDump', r.body, tmp);
    assert.deepStrictEqual(dump.configs.map((c) => c['@type'].replace('type.googleapis.com/envoy.admin.v3.', '')),
      ['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump',
        'RoutesConfigDump', 'SecretsConfigDump']);
    // The bootstrap is the configured one, with Envoy's user_agent_name default.
    const want = canonYaml(envoy.lookupType('envoy.config.bootstrap.v3.Bootstrap'), YAML.parse(config), 'config');
    want.node.user_agent_name = 'envoy';
    const got = { ...dump.configs[0].bootstrap };
    assert.deepStrictEqual(got, want);
    assert.match(dump.configs[0].last_updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const clusters = dump.configs[1].static_clusters.map((c) => c.cluster);
    assert.deepStrictEqual(clusters, want.static_resources.clusters.map((c) => ({ '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...c })));
    const listeners = dump.configs[2].static_listeners.map((l) => l.listener.name);
    assert.deepStrictEqual(listeners, [`lds_ingress_127.0.0.1_${inPort}`, 'egress']);
    const routes = dump.configs[4].static_route_configs.map((rc) => rc.route_config);
    assert.deepStrictEqual(routes.map((rc) => rc.name), ['rds_ingress', 'rds_egress']);
    assert.deepStrictEqual(routes[0].virtual_hosts[0].routes[0].route.timeout, '1.250s');
    assert.deepStrictEqual(Object.keys(dump.configs[3]), ['@type']);
  });

  test('config_dump?resource=&mask=: single resources, trimmed inside the Any', async () => {
    const r = await fetchText(adminPort, '/config_dump?resource=static_clusters&mask=cluster.name,cluster.circuit_breakers');
    assert.strictEqual(r.status, 200);
    const dump = roundTrip('envoy.admin.v3.ConfigDump', r.body, tmp);
    assert.deepStrictEqual(dump.configs, [
      { '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster',
        cluster: { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'app',
          circuit_breakers: { thresholds: [{ priority: 'HIGH', max_connections: 9 }] } } },
      { '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster',
        cluster: { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'empty' } },
    ]);
    const e = await fetchText(adminPort, '/config_dump?resource=no_such_field');
    assert.strictEqual(e.status, 404);
    assert.strictEqual(e.body, 'no_such_field not found in config dump');
  });

  test('config_dump?include_eds&name_regex=: endpoints of the live host sets', async () => {
    const r = await fetchText(adminPort, '/config_dump?include_eds&name_regex=app');
    assert.strictEqual(r.status, 200);
    const dump = roundTrip('envoy.admin.v3.ConfigDump', r.body, tmp);
    const eds = dump.configs.find((c) => c['@type'].endsWith('.EndpointsConfigDump'));
    assert.deepStrictEqual(eds.static_endpoint_configs, [{
      endpoint_config: {
        '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
        cluster_name: 'app',
        endpoints: [{
          locality: {},
          lb_endpoints: [{
            endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: upPort } }, hostname: 'app-host' },
            health_status: 'HEALTHY',
            load_balancing_weight: 2,
          }],
        }],
      },
    }]);
  });

  test('clusters?format=json: envoy.admin.v3.Clusters with live host stats', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`http://127.0.0.1:${inPort}/x`);
      assert.strictEqual(r.status, 200);
      await r.text();
    }
    const r = await fetchText(adminPort, '/clusters?format=json');
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.type, 'application/json');
    const cl = roundTrip('envoy.admin.v3.Clusters', r.body, tmp);
    assert.deepStrictEqual(cl.cluster_statuses.map((c) => c.name), ['app', 'empty']);
    const app = cl.cluster_statuses[0];
    assert.strictEqual(app.observability_name, 'app');
    assert.deepStrictEqual(app.circuit_breakers.thresholds[1],
      { priority: 'HIGH', max_connections: 9, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 });
    const host = app.host_statuses[0];
    assert.deepStrictEqual(host.address, { socket_address: { address: '127.0.0.1', port_value: upPort } });
    assert.strictEqual(host.hostname, 'app-host');
    assert.strictEqual(host.weight, 2);
    assert.deepStrictEqual(host.health_status, { eds_health_status: 'HEALTHY' });
    const stats = Object.fromEntries(host.stats.map((s) => [s.name, s]));
    assert.deepStrictEqual(host.stats.map((s) => s.name),
      ['cx_connect_fail', 'cx_total', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total', 'cx_active', 'rq_active']);
    assert.ok(Number(stats.rq_total.value) >= 3, JSON.stringify(stats));
    assert.strictEqual(stats.cx_active.type, 'GAUGE');
    assert.strictEqual(cl.cluster_statuses[1].host_statuses, undefined);
  });

  test('listeners?format=json: envoy.admin.v3.Listeners', async () => {
    const r = await fetchText(adminPort, '/listeners?format=json');
    assert.strictEqual(r.status, 200);
    const ls = roundTrip('envoy.admin.v3.Listeners', r.body, tmp);
    assert.deepStrictEqual(ls, {
      listener_statuses: [
        { name: `lds_ingress_127.0.0.1_${inPort}`, local_address: { socket_address: { address: '127.0.0.1', port_value: inPort } } },
        { name: 'egress', local_address: { socket_address: { address: '127.0.0.1', port_value: outPort } } },
      ],
    });
  });

  let passed = 0;
  let failed = 0;
  try {
    await waitReady(proc, adminPort, log);
    for (const t of tests) {
      try {
        await t.fn();
        passed++;
        console.log(`ok - ${t.name}`);
      } catch (e) {
        failed++;
        console.log(`not ok - ${t.name}\n${e.stack || e}`);
      }
    }
  } catch (e) {
    failed++;
    console.log(`not ok - start\n${e.stack || e}`);
  } finally {
    const code = await stop(proc);
    if (code !== 0) {
      failed++;
      console.log(`not ok - outrider exit status ${code}\n${log()}`);
    }
    upstream.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main();
