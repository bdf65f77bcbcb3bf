'use strict';
// Loading protos with protobufjs (the library under @grpc/proto-loader): Outrider's subset in
// xds/proto and Envoy's real API from @grpc/grpc-js-xds (deps/envoy-api + googleapis, validate, xds).

const fs = require('node:fs');
const path = require('node:path');

const protobuf = require(require.resolve('protobufjs', {
  paths: [path.dirname(require.resolve('@grpc/proto-loader'))],
}));

const SRC = process.env.OR_SOURCE_DIR || path.resolve(__dirname, '..', '..', '..');
const OUR_PROTOS = path.join(SRC, 'xds', 'proto');
const DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const ENVOY_DIRS = ['envoy-api', 'googleapis', 'protoc-gen-validate', 'xds'].map((d) => path.join(DEPS, d));

function listProtos(dir, prefix = '') {
  let out = [];
  for (const ent of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = path.posix.join(prefix, ent.name);
    if (ent.isDirectory()) out = out.concat(listProtos(dir, rel));
    else if (ent.name.endsWith('.proto')) out.push(rel);
  }
  return out.sort();
}

// A protobufjs Root that resolves imports through `dirs`; google/protobuf/* falls back to
// protobufjs's bundled well-known types, then to /usr/include (descriptor.proto for validate).
function loadRoot(dirs, files) {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (path.isAbsolute(target)) return target;
    for (const d of dirs) {
      const p = path.join(d, target);
      if (fs.existsSync(p)) return p;
    }
    if (target in protobuf.common) return target;
    const sys = path.join('/usr/include', target);
    return fs.existsSync(sys) ? sys : target;
  };
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  return root;
}

module.exports = { protobuf, SRC, OUR_PROTOS, ENVOY_DIRS, listProtos, loadRoot };
