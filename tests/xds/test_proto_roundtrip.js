'use strict';
// Checks Outrider's Envoy API subset (xds/proto) and its YAML/JSON loader against the REAL Envoy
// protos shipped in @grpc/grpc-js-xds: our .proto files must match Envoy's names, numbers, types,
// oneofs and enum values, and what or_config_pack encodes from a YAML sample must decode with
// Envoy's protos to exactly the YAML's content.
//
// Env: OR_BUILD_DIR (dir with or_config_pack, set by ctest), OR_SOURCE_DIR (repo root).

const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const YAML = require('yaml');
const { protobuf, OUR_PROTOS, ENVOY_DIRS, listProtos, loadRoot } = require('./lib/protos');

const SRC = process.env.OR_SOURCE_DIR || path.resolve(__dirname, '..', '..');
const BUILD = process.env.OR_BUILD_DIR || path.join(SRC, 'build');
const PACK = path.join(BUILD, 'or_config_pack');

const files = listProtos(OUR_PROTOS);
const ours = loadRoot([OUR_PROTOS], files);
const envoy = loadRoot(ENVOY_DIRS, files);

// ---- canonical proto3 JSON values, computed independently of Outrider's C code -------------

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value',
  'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `google.protobuf.${n}`));
const LONGS = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const INTS = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);

function fullName(t) { return t.fullName.replace(/^\./, ''); }
function camel(s) { return s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()); }

function formatDuration(seconds, nanos) {
  const neg = seconds < 0 || nanos < 0;
  const s = Math.abs(seconds);
  let n = Math.abs(nanos);
  let frac = '';
  if (n !== 0) {
    if (n % 1e6 === 0) frac = '.' + String(n / 1e6).padStart(3, '0');
    else if (n % 1e3 === 0) frac = '.' + String(n / 1e3).padStart(6, '0');
    else frac = '.' + String(n).padStart(9, '0');
  }
  return `${neg ? '-' : ''}${s}${frac}s`;
}

function parseDuration(text) {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(String(text));
  assert.ok(m, `bad duration in sample: ${text}`);
  const sign = m[1] ? -1 : 1;
  return formatDuration(sign * Number(m[2]), sign * Number((m[3] || '').padEnd(9, '0') || 0));
}

function longString(v) { return typeof v === 'object' && v !== null ? v.toString() : String(v); }
function b64(v) { return Buffer.from(v).toString('base64'); }
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
  if (WRAPPERS.has(name)) return canonScalar(type.fields.value, msg.value);
  if (name === 'google.protobuf.Struct') {
    const o = {};
    for (const [k, v] of Object.entries(msg.fields || {})) o[k] = canonPbValue(v);
    return o;
  }
  if (name === 'google.protobuf.Value') return canonPbValue(msg);
  if (name === 'google.protobuf.ListValue') return (msg.values || []).map(canonPbValue);
  if (name === 'google.protobuf.Any') {
    msg = { type_url: get(msg, 'type_url').val, value: msg.value };
    if (!msg.type_url) return {};
    const inner = envoy.lookupType(msg.type_url.slice(msg.type_url.lastIndexOf('/') + 1));
    const val = canonDecoded(inner, inner.decode(msg.value));
    const special = inner.fullName.startsWith('.google.protobuf.');
    return special ? { '@type': msg.type_url, value: val } : { '@type': msg.type_url, ...val };
  }
  const out = {};
  for (const f of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(msg, f.name)) continue;
    const v = msg[f.name];
    if (f.map) {
      if (Object.keys(v).length === 0) continue;
      const o = {};
      for (const [k, x] of Object.entries(v)) o[k] = canonField(f, x);
      out[f.name] = o;
    } else if (f.repeated) {
      if (v.length === 0) continue;
      out[f.name] = v.map((x) => canonField(f, x));
    } else {
      out[f.name] = canonField(f, v);
    }
  }
  return out;
}

// protobufjs's bundled well-known types keep protoc's camelCase names whatever keepCase says.
function get(v, snake) {
  for (const k of [snake, camel(snake)]) {
    if (Object.prototype.hasOwnProperty.call(v, k)) return { has: true, val: v[k] };
  }
  return { has: false };
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
  if (LONGS.has(f.type)) return longString(v);
  if (f.type === 'bytes') return b64(v);
  return v;
}

// YAML-parsed sample -> the same canonical JSON value, driven by Envoy's own descriptors.
function canonYaml(type, obj, where) {
  const name = fullName(type);
  if (name === 'google.protobuf.Duration') return parseDuration(obj);
  if (WRAPPERS.has(name)) return canonYamlScalar(type.fields.value, obj, where);
  if (name === 'google.protobuf.Struct' || name === 'google.protobuf.Value' ||
      name === 'google.protobuf.ListValue') return unBig(obj);
  if (name === 'google.protobuf.Any') {
    if (Object.keys(obj).length === 0) return {};
    const url = obj['@type'];
    const inner = envoy.lookupType(url.slice(url.lastIndexOf('/') + 1));
    if (inner.fullName.startsWith('.google.protobuf.')) {
      return { '@type': url, value: canonYaml(inner, obj.value, where) };
    }
    const rest = { ...obj };
    delete rest['@type'];
    return { '@type': url, ...canonYaml(inner, rest, where) };
  }
  assert.ok(obj && typeof obj === 'object' && !Array.isArray(obj), `${where}: expected a mapping`);
  const out = {};
  for (const [key, v] of Object.entries(obj)) {
    const f = type.fields[key] || type.fieldsArray.find((x) => camel(x.name) === key);
    assert.ok(f, `${where}.${key}: not a field of Envoy's ${name}`);
    if (v === null) continue;
    const w = `${where}.${f.name}`;
    if (f.map) out[f.name] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonYamlField(f, x, w)]));
    else if (f.repeated) out[f.name] = v.map((x, i) => canonYamlField(f, x, `${w}[${i}]`));
    else {
      const c = canonYamlField(f, v, w);
      // proto3: a singular scalar outside a oneof at its default value is not on the wire
      const scalar = !(f.resolvedType instanceof protobuf.Type);
      const isDefault = c === 0 || c === '0' || c === 0n || c === '' || c === false ||
        (f.resolvedType instanceof protobuf.Enum && f.resolvedType.values[c] === 0);
      if (scalar && !f.partOf && isDefault) continue;
      out[f.name] = c;
    }
  }
  return out;
}

// Struct values are doubles: the BigInts YAML gives for integers become numbers.
function unBig(v) {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(unBig);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unBig(x)]));
  return v;
}

function canonYamlField(f, v, where) {
  if (f.resolvedType instanceof protobuf.Type) return canonYaml(f.resolvedType, v, where);
  return canonYamlScalar(f, v, where);
}

function canonYamlScalar(f, v, where) {
  if (f.resolvedType instanceof protobuf.Enum) return enumName(f.resolvedType, v);
  if (LONGS.has(f.type)) return String(v);
  if (INTS.has(f.type)) return Number(v);
  if (f.type === 'bytes') return Buffer.from(String(v), 'base64').toString('base64');
  if (f.type === 'string') return String(v);
  if (f.type === 'double' || f.type === 'float') return Number(v);
  if (f.type === 'bool') return v === true || v === 'true';
  throw new Error(`${where}: unexpected type ${f.type}`);
}

// ---- helpers --------------------------------------------------------------------------------

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'or_proto_rt_'));

function pack(typeName, text, ext = 'yaml') {
  const file = path.join(tmp, `sample.${ext}`);
  fs.writeFileSync(file, text);
  return spawnSync(PACK, [typeName, file], { maxBuffer: 64 << 20 });
}

function roundTrip(typeName, text, ext = 'yaml') {
  const r = pack(typeName, text, ext);
  assert.strictEqual(r.status, 0, `or_config_pack failed: ${r.stderr}`);
  const type = envoy.lookupType(typeName);
  const decoded = type.decode(r.stdout);
  const actual = canonDecoded(type, decoded);
  // intAsBigInt keeps int64 samples beyond 2^53 exact
  const expected = canonYaml(type, YAML.parse(text, { intAsBigInt: true }), '');
  assert.deepStrictEqual(actual, expected);
  return actual;
}

// ---- samples --------------------------------------------------------------------------------

// A Bootstrap using every field of the subset, with an HCM Any (inline route config) and a
// Router Any.
const RICH_BOOTSTRAP = `
node:
  id: n1
  cluster: c1
  user_agent_name: outrider
  user_agent_version: 0.1.0
  client_features: [envoy.lb.does_not_support_overprovisioning]
  metadata: {a: 1, b: [true, null, x], c: {d: 2.5}}
  locality: {region: r, zone: z, sub_zone: s}
admin:
  access_log_path: /dev/null
  address: {pipe: {path: /tmp/admin, mode: 420}}
static_resources:
  listeners:
  - name: l1
    address:
      socket_address: {protocol: TCP, address: 0.0.0.0, port_value: 80, ipv4_compat: true}
    per_connection_buffer_limit_bytes: 1024
    traffic_direction: INBOUND
    metadata:
      filter_metadata: {x: {y: z}}
      typed_filter_metadata:
        t: {'@type': type.googleapis.com/google.protobuf.UInt32Value, value: 7}
    filter_chains:
    - name: fc
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          '@type': type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          codec_type: HTTP2
          stat_prefix: in
          use_remote_address: true
          xff_num_trusted_hops: 2
          generate_request_id: false
          server_name: srv
          common_http_protocol_options: {idle_timeout: 300s}
          stream_idle_timeout: 0.5s
          request_timeout: 0s
          request_headers_timeout: 10.000000001s
          max_request_headers_kb: 60
          route_config:
            name: rc
            virtual_hosts:
            - name: vh
              domains: ['*', example.com]
              routes:
              - name: r1
                match:
                  prefix: /api
                  case_sensitive: false
                  headers:
                  - {name: x-a, exact_match: v}
                  - {name: x-b, safe_regex_match: {google_re2: {max_program_size: 100}, regex: 'a.*'}}
                  - {name: x-c, range_match: {start: -1, end: 9007199254740993}}
                  - {name: x-d, present_match: true, invert_match: true}
                  - {name: x-e, prefix_match: p}
                  - {name: x-f, suffix_match: s}
                  - {name: x-g, contains_match: c}
                  - {name: x-h, string_match: {safe_regex: {regex: '^x$'}, ignore_case: true}}
                  - {name: x-i, string_match: {exact: e}}
                  - {name: x-j, string_match: {prefix: p}}
                  - {name: x-k, string_match: {suffix: s}}
                  - {name: x-l, string_match: {contains: c}}
                route:
                  weighted_clusters:
                    clusters: [{name: a, weight: 30}, {name: b, weight: 70}]
                    total_weight: 100
                  prefix_rewrite: /
                  host_rewrite_literal: h
                  timeout: 15s
                metadata: {filter_metadata: {m: {k: v}}}
              - match: {path: /exact}
                redirect: {https_redirect: true, host_redirect: h, port_redirect: 443, prefix_rewrite: /p, response_code: PERMANENT_REDIRECT, strip_query: true}
              - match: {safe_regex: {regex: '^/r$'}}
                direct_response: {status: 503, body: {inline_string: down}}
              - match: {prefix: /f}
                direct_response: {status: 200, body: {filename: /etc/hostname}}
              - match: {prefix: /b}
                direct_response: {status: 200, body: {inline_bytes: AAE=}}
              - match: {prefix: /s}
                redirect: {scheme_redirect: http, path_redirect: /x, response_code: 3}
              - match: {prefix: /c}
                route: {cluster: a}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              '@type': type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
              suppress_envoy_headers: true
  clusters:
  - name: a
    type: STRICT_DNS
    connect_timeout: 0.25s
    lb_policy: LEAST_REQUEST
    per_connection_buffer_limit_bytes: 65536
    dns_lookup_family: V4_ONLY
    dns_refresh_rate: 5s
    circuit_breakers:
      thresholds:
      - {priority: HIGH, max_connections: 1, max_pending_requests: 2, max_requests: 3, max_retries: 4}
      - {max_connections: 4294967295}
    load_assignment:
      cluster_name: a
      endpoints:
      - locality: {zone: z}
        load_balancing_weight: 5
        priority: 1
        lb_endpoints:
        - endpoint: {address: {socket_address: {address: a.local, port_value: 8080}}, hostname: a-host}
          health_status: HEALTHY
          load_balancing_weight: 2
          metadata: {filter_metadata: {envoy.lb: {canary: true}}}
  - name: b
    type: EDS
    lb_policy: MAGLEV
`;

const LISTENER_JSON = JSON.stringify({
  name: 'ingress',
  address: { socketAddress: { address: '::', portValue: 15000, ipv4Compat: true } },
  trafficDirection: 'OUTBOUND',
  filterChains: [{
    filters: [{
      name: 'envoy.filters.network.http_connection_manager',
      typedConfig: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
        statPrefix: 'ingress_http',
        codecType: 'AUTO',
        routeConfig: {
          virtualHosts: [{
            name: 'all', domains: ['*'],
            routes: [{ match: { prefix: '/', caseSensitive: true }, route: { cluster: 'x', hostRewriteLiteral: 'y' } }],
          }],
        },
        httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
        streamIdleTimeout: '300s',
        useRemoteAddress: false,
      },
    }],
  }],
}, null, 2);

const CLA_YAML = `
cluster_name: svc
endpoints:
- priority: 0
  lb_endpoints:
  - endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}
  - endpoint: {address: {socket_address: {address: 10.0.0.2, port_value: 80}}}
    health_status: DRAINING
- priority: 2
  load_balancing_weight: 1
  locality: {region: eu}
  lb_endpoints:
  - endpoint: {address: {socket_address: {address: 10.0.1.1, port_value: 8080, protocol: UDP}}}
`;

const ROUTE_YAML = `
name: local_route
virtual_hosts:
- name: backend
  domains: ['*']
  routes:
  - match: {prefix: /, headers: [{name: ':method', exact_match: GET}]}
    route: {cluster: svc, timeout: 1.5s}
`;

// ---- tests ----------------------------------------------------------------------------------

const tests = [];
function test(name, fn) { tests.push({ name, fn }); }

test('our proto subset matches the real Envoy protos', () => {
  let types = 0;
  let fields = 0;
  const walk = (ns) => {
    for (const n of ns.nestedArray || []) {
      if (n instanceof protobuf.Type) {
        types++;
        const real = envoy.lookup(fullName(n));
        assert.ok(real instanceof protobuf.Type, `${fullName(n)} is not an Envoy message`);
        for (const f of n.fieldsArray) {
          fields++;
          const rf = real.fields[f.name];
          assert.ok(rf, `${fullName(n)}.${f.name} is not an Envoy field`);
          const where = `${fullName(n)}.${f.name}`;
          assert.strictEqual(f.id, rf.id, `${where}: field number`);
          assert.strictEqual(f.repeated, rf.repeated, `${where}: repeated`);
          assert.strictEqual(f.map, rf.map, `${where}: map`);
          assert.strictEqual(f.keyType, rf.keyType, `${where}: map key`);
          const t = f.resolvedType ? f.resolvedType.fullName : f.type;
          const rt = rf.resolvedType ? rf.resolvedType.fullName : rf.type;
          assert.strictEqual(t, rt, `${where}: type`);
          assert.strictEqual(f.partOf && f.partOf.name, rf.partOf && rf.partOf.name, `${where}: oneof`);
        }
      } else if (n instanceof protobuf.Enum) {
        const real = envoy.lookup(fullName(n));
        assert.ok(real instanceof protobuf.Enum, `${fullName(n)} is not an Envoy enum`);
        for (const [k, v] of Object.entries(n.values)) {
          assert.strictEqual(real.values[k], v, `${fullName(n)}.${k}`);
        }
      }
      if (n.nestedArray) walk(n);
    }
  };
  walk(ours.lookup('envoy'));
  assert.ok(types >= 40 && fields >= 140, `compared ${types} types, ${fields} fields`);
});

test('rich bootstrap YAML decodes with Envoy protos to the same content', () => {
  const got = roundTrip('envoy.config.bootstrap.v3.Bootstrap', RICH_BOOTSTRAP);
  const hcm = got.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  assert.strictEqual(hcm.stat_prefix, 'in');
  assert.strictEqual(hcm.request_headers_timeout, '10.000000001s');
  assert.strictEqual(hcm.http_filters[0].typed_config.suppress_envoy_headers, true);
  assert.strictEqual(hcm.route_config.virtual_hosts[0].routes[0].match.headers[2].range_match.end,
    '9007199254740993');
  assert.strictEqual(got.static_resources.clusters[0].circuit_breakers.thresholds[1].max_connections,
    4294967295);
});

test('JSON listener with lowerCamel keys decodes with Envoy protos', () => {
  roundTrip('envoy.config.listener.v3.Listener', LISTENER_JSON, 'json');
});

test('ClusterLoadAssignment and RouteConfiguration resources', () => {
  roundTrip('envoy.config.endpoint.v3.ClusterLoadAssignment', CLA_YAML);
  roundTrip('envoy.config.route.v3.RouteConfiguration', ROUTE_YAML);
});

test('or_config_pack rejects an unknown field with its path', () => {
  const r = pack('envoy.config.cluster.v3.Cluster', 'name: a\nlb_polcy: RANDOM\n');
  assert.strictEqual(r.status, 1);
  assert.match(String(r.stderr), /^lb_polcy: unknown or unsupported field 'lb_polcy' in envoy\.config\.cluster\.v3\.Cluster/);
  assert.strictEqual(r.stdout.length, 0);
});

let passed = 0;
let failed = 0;
for (const t of tests) {
  try {
    t.fn();
    passed++;
    console.log(`ok - ${t.name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${t.name}\n${e.stack || e}`);
  }
}
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
