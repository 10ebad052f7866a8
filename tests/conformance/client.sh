#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The client command the MCP conformance suite runs (`conformance client --command tests/conformance/client.sh`):
# the suite appends the URL of its scenario server and sets MCP_CONFORMANCE_SCENARIO, MCP_CONFORMANCE_PROTOCOL_VERSION
# and, for some scenarios, MCP_CONFORMANCE_CONTEXT (JSON). Runs client.lua once with luaload, without progress or
# summary; exits 0 when the scenario's client part succeeded, non-zero otherwise (99: it failed, see stderr).
# LUALOAD names the luaload binary (default: build/luaload of this checkout).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LUALOAD=${LUALOAD:-$HERE/../../build/luaload}
if [[ $# -lt 1 ]]; then
  echo "usage: client.sh [ARGS...] SERVER_URL (run by the MCP conformance suite)" >&2
  exit 2
fi
exec "$LUALOAD" run "$HERE/client.lua" -i 1 --quiet --no-summary -e "MCP_CONFORMANCE_URL=${!#}" </dev/null
