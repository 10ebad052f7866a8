#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs everything luaload needs to build, test and benchmark on Debian 12 (bookworm). Idempotent: when every
# package is already installed it changes nothing and needs no network. Run as root (or with sudo available).
# nginx is installed but never started as a service: tests and benchmarks start their own on 127.0.0.1.
set -euo pipefail

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

missing_packages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || printf '%s\n' "$pkg"
  done
}

mapfile -t MISSING < <(missing_packages)
if [[ ${#MISSING[@]} -eq 0 ]]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
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
echo "setup: done"
