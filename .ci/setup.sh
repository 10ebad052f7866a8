#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs everything luaload needs to build, test and benchmark on Debian 12 (bookworm). Idempotent: when every
# package is already installed it changes nothing and needs no network. Run as root (or with sudo available).
# nginx is installed but never started as a service: tests and benchmarks start their own on 127.0.0.1.
# Then the Node.js test tools pinned by tests/node/package-lock.json (Node 22, the MCP conformance suite, the MCP
# TypeScript SDK v2, oauth2-mock-server) go into tests/node/node_modules with `npm ci`, using Debian's npm when the
# machine has none; they are reinstalled only when the lock file changed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

PACKAGES=(
  build-essential cmake ninja-build pkg-config     # toolchain
  libuv1-dev libluajit2-5.1-dev node-llhttp         # event loop, Lua, HTTP parser (C sources in /usr/share/llhttp)
  libssl-dev openssl ca-certificates                # TLS (the openssl CLI makes test certificates)
  libgtest-dev libgmock-dev                         # tests
  nlohmann-json3-dev libcli11-dev lua-cjson-dev     # JSON export, command line, JSON in scripts
  nginx-light wrk                                   # test/benchmark server, benchmark baseline
  procps util-linux time                            # ps, taskset (bench pinning), /usr/bin/time (bench)
  chromium                                          # headless browser: the HTML report test renders it
  prometheus                                        # a real Prometheus scrapes --metrics-addr in a test
)
# npm installs the Node test tools (tests/node); any npm will do, Debian's is the fallback.
if ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing_packages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || printf '%s\n' "$pkg"
  done
}

# Installs the Node test tools from tests/node/package-lock.json. `npm ci` starts from an empty node_modules, so it
# runs only when the lock file differs from the one the last successful install recorded (the stamp).
install_node_packages() {
  local dir=$ROOT/tests/node
  local stamp=$dir/node_modules/.luaload-lock.sha256
  local want
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [[ -f $stamp && $(cat "$stamp") == "$want" && -x $dir/node_modules/.bin/node ]]; then
    echo "setup: node test tools already installed (tests/node)"
    return 0
  fi
  echo "setup: installing node test tools (npm ci in tests/node)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  local version
  version=$("$dir/node_modules/.bin/node" --version)
  if [[ $version != v22.* ]]; then
    echo "setup: tests/node/node_modules/.bin/node is $version, expected Node 22" >&2
    return 1
  fi
  echo "$want" >"$stamp"
  echo "setup: node test tools installed (Node $version)"
}

mapfile -t MISSING < <(missing_packages)
if [[ ${#MISSING[@]} -eq 0 ]]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  install_node_packages
  exit 0
fi

if [[ $EUID -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -n -E bash "$0" "$@"
  fi
  echo "setup: missing packages (${MISSING[*]}) and not root; run as root" >&2
  exit 1
fi

if ! grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
  echo "setup: warning: written for Debian 12 (bookworm); continuing anyway" >&2
fi

echo "setup: installing ${MISSING[*]}"
export DEBIAN_FRONTEND=noninteractive

# Package maintainer scripts must not start nginx (or anything else) as a service: policy-rc.d exit code 101 means
# "action forbidden". Only ours is removed afterwards.
POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=0
if [[ ! -e $POLICY ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"
  OWN_POLICY=1
fi
cleanup() { if [[ $OWN_POLICY -eq 1 ]]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef \
  -o Dpkg::Options::=--force-confold "${PACKAGES[@]}" >/dev/null

mapfile -t STILL_MISSING < <(missing_packages)
if [[ ${#STILL_MISSING[@]} -ne 0 ]]; then
  echo "setup: failed to install ${STILL_MISSING[*]}" >&2
  exit 1
fi
install_node_packages
echo "setup: done"
