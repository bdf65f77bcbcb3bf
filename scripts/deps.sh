#!/usr/bin/env bash
# Installs what building and testing Outrider needs, and nothing that is already there.
# Debian packages through apt-get (as root), the test control plane's npm packages through npm.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libevent-dev libnghttp2-dev android-libboringssl-dev
  libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev
  node-llhttp libyaml-dev libre2-dev libcmocka-dev libbenchmark-dev
  curl nghttp2-client wrk nginx-light haproxy python3 nodejs npm
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    # node/npm may come from outside Debian on some machines: a working binary is enough.
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
      python3) command -v python3 >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# nginx and haproxy are installed for benchmarks only; their packages may start system services.
for svc in nginx haproxy; do
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done

# The test control plane and the proto round-trip test load the real Envoy protos via npm packages.
if [ "${OR_SKIP_NPM:-0}" != 1 ] && [ -f "$here/tests/xds/package.json" ]; then
  # Reinstall whenever the lock file changed since the last install (stamp holds its checksum).
  want=$(cat "$here/tests/xds/package.json" "$here/tests/xds/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1)
  stamp="$here/tests/xds/node_modules/.outrider-stamp"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    (cd "$here/tests/xds" && npm install --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
fi
