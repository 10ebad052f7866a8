#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the official MCP conformance suite (tests/node, pinned by its package-lock.json) against luaload.
#
#   run.sh list                 the scenarios with the revisions each applies to, and the runs below
#   run.sh client [RUN...]      luaload as the client (client.sh), every client scenario at every revision it
#                               applies to. RUN: 2025-03-26 2025-06-18 2025-11-25 2026-07-28 (`--suite all
#                               --spec-version RUN`) and extensions (`--suite extensions`); default: all five.
#   run.sh server [RUN...]      `luaload target` (started here on 127.0.0.1, port 0) as the server. RUN: 2025-11-25
#                               and 2026-07-28 (`--requirements RUN`), other (the active scenarios neither
#                               requirement set scores, one by one at every revision they apply to); default: all.
#   run.sh baseline client|server [RUN...]
#                               the same runs, then each baseline loses the entries the suite found stale and gains
#                               the unexpected failures (baseline.mjs); exit 0 unless a run could not start.
#
# Each run is judged by the suite against the expected-failures baseline of its revision,
# expected-failures/<revision>.yml (the suite's --expected-failures format: `client:` and `server:` lists), which
# lists what does not pass yet: an unexpected failure and a stale entry (a listed scenario that passes) both fail.
# Exit status 0 when every run matched its baseline. Environment: LUALOAD (default build/luaload),
# CONFORMANCE_OUT (a folder for the suite's per-scenario results; none by default).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export LUALOAD=${LUALOAD:-$ROOT/build/luaload}
NODE=$ROOT/tests/node/node_modules/.bin/node
SUITE=$ROOT/tests/node/node_modules/@modelcontextprotocol/conformance/dist/index.js
BASELINES=$HERE/expected-failures
CLIENT_RUNS=(2025-03-26 2025-06-18 2025-11-25 2026-07-28 extensions)
SERVER_RUNS=(2025-11-25 2026-07-28 other)
REQUIREMENT_SETS=(2025-11-25 2026-07-28)
DATED_REVISIONS=(2025-03-26 2025-06-18 2025-11-25)
# One scenario's client process may wait for the suite's servers on a loaded 2-core machine: more than the 30 s default.
CLIENT_TIMEOUT_MS=60000

die() {
  echo "conformance: $*" >&2
  exit 2
}

check_node() {
  [[ -x $NODE && -f $SUITE ]] || die "the Node test tools are not installed ($NODE); run \`bash .ci/setup.sh\` first"
}

check_luaload() {
  [[ -x $LUALOAD ]] || die "no luaload binary at $LUALOAD (build first, or set LUALOAD)"
}

suite() { "$NODE" "$SUITE" "$@"; }

UPDATE_BASELINES=0

# Runs the suite (the remaining arguments) with --expected-failures FILE, where FILE is the baseline of a revision
# (first argument) and judges the leg named by the second. With UPDATE_BASELINES=1 the leg's section of FILE is then
# brought up to date with the suite's verdict instead.
judged() {
  local file=$BASELINES/$1.yml leg=$2
  shift 2
  [[ -f $file ]] || die "no baseline $file"
  if [[ $UPDATE_BASELINES -eq 0 ]]; then
    suite "$@" --expected-failures "$file"
    return
  fi
  local log rc=0
  log=$(mktemp)
  suite "$@" --expected-failures "$file" | tee "$log" || rc=$?
  "$NODE" "$HERE/baseline.mjs" "$file" "$leg" "$log"
  rm -f "$log"
  [[ $rc -le 1 ]]
}

# Sets OUT_ARGS to the suite arguments that save one run's results in a fresh folder (none without CONFORMANCE_OUT).
OUT_ARGS=()
results_in() {
  OUT_ARGS=()
  [[ -n ${CONFORMANCE_OUT:-} ]] || return 0
  rm -rf "${CONFORMANCE_OUT:?}/$1"
  mkdir -p "$CONFORMANCE_OUT/$1"
  OUT_ARGS=(-o "$CONFORMANCE_OUT/$1")
}

run_client() {
  local run=$1 selection=()
  case $run in
    extensions) selection=(--suite extensions) ;;
    2025-03-26 | 2025-06-18 | 2025-11-25 | 2026-07-28) selection=(--suite all --spec-version "$run") ;;
    *) die "unknown client run '$run' (${CLIENT_RUNS[*]})" ;;
  esac
  # The suite splits the command on spaces.
  [[ $HERE != *" "* ]] || die "the checkout path has a space, which the suite's --command cannot carry: $HERE"
  results_in "client-$run"
  echo "=== conformance client $run"
  judged "$run" client client --command "$HERE/client.sh" "${selection[@]}" --timeout "$CLIENT_TIMEOUT_MS" \
    "${OUT_ARGS[@]}"
}

TARGET_PID=""
TARGET_URL=""
TARGET_LOG=""

stop_target() {
  if [[ -n $TARGET_PID ]]; then
    kill "$TARGET_PID" 2>/dev/null || true
    wait "$TARGET_PID" 2>/dev/null || true
    TARGET_PID=""
  fi
  [[ -n $TARGET_LOG ]] && rm -f "$TARGET_LOG"
  TARGET_LOG=""
}

start_target() {
  TARGET_LOG=$(mktemp)
  "$LUALOAD" target --listen 127.0.0.1:0 >"$TARGET_LOG" 2>&1 </dev/null &
  TARGET_PID=$!
  local url="" _
  for _ in $(seq 300); do
    url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$TARGET_LOG" | head -n1 || true)
    [[ -n $url ]] && break
    kill -0 "$TARGET_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z $url ]]; then
    cat "$TARGET_LOG" >&2
    die "luaload target printed no URL within 30 s"
  fi
  TARGET_URL=$url/mcp
  echo "luaload target at $TARGET_URL"
}

# The server scenarios a requirement set either scores (its "Server scenarios" list) or leaves unscored because they
# are pending or extensions (not active), from the suite's `list --requirements` output on stdin.
covered_server_scenarios() {
  awk '/^Server scenarios/ { scored = 1; next }
       /^[A-Z]/ { scored = 0 }
       /^  (pending|extension) / { inactive = 1; next }
       /^  [a-z]/ { inactive = 0 }
       scored && /^  - / { print $2 }
       inactive && /\[server\]/ { print $2 }'
}

# "name revision" for every active server scenario that no requirement set covers, at every dated revision it
# applies to (the revisions `list --server` prints for it).
other_server_runs() {
  local covered set
  covered=$(for set in "${REQUIREMENT_SETS[@]}"; do suite list --requirements "$set" | covered_server_scenarios; done)
  suite list --server | awk '/^  - / { print $2, $3 }' | while read -r name tags; do
    grep -qxF "$name" <<<"$covered" && continue
    for revision in "${DATED_REVISIONS[@]}"; do
      [[ $tags == *"$revision"* ]] && echo "$name $revision"
    done
  done
}

run_server_other() {
  local rc=0 name revision
  while read -r name revision; do
    results_in "server-other/$name-$revision"
    echo "=== conformance server $name at $revision"
    judged "$revision" server server --url "$TARGET_URL" --scenario "$name" --spec-version "$revision" \
      "${OUT_ARGS[@]}" || rc=1
  done < <(other_server_runs)
  return $rc
}

run_server() {
  local run=$1 rc=0
  case $run in
    2025-11-25 | 2026-07-28 | other) ;;
    *) die "unknown server run '$run' (${SERVER_RUNS[*]})" ;;
  esac
  start_target
  if [[ $run == other ]]; then
    run_server_other || rc=1
  else
    results_in "server-$run"
    echo "=== conformance server $run"
    judged "$run" server server --url "$TARGET_URL" --requirements "$run" "${OUT_ARGS[@]}" || rc=1
  fi
  stop_target
  return $rc
}

list_runs() {
  suite list --client
  echo
  suite list --server
  echo
  echo "run.sh client runs: ${CLIENT_RUNS[*]}"
  echo "run.sh server runs: ${REQUIREMENT_SETS[*]} (--requirements), other:"
  other_server_runs | sed 's/^/  /'
}

main() {
  local leg=${1:-}
  [[ $# -gt 0 ]] && shift
  if [[ $leg == baseline ]]; then
    UPDATE_BASELINES=1
    leg=${1:-}
    [[ $# -gt 0 ]] && shift
  fi
  check_node
  [[ $leg == list ]] || check_luaload
  trap stop_target EXIT
  local runs=("$@") rc=0 run
  case $leg in
    list) list_runs ;;
    client)
      [[ ${#runs[@]} -gt 0 ]] || runs=("${CLIENT_RUNS[@]}")
      for run in "${runs[@]}"; do run_client "$run" || rc=1; done
      ;;
    server)
      [[ ${#runs[@]} -gt 0 ]] || runs=("${SERVER_RUNS[@]}")
      for run in "${runs[@]}"; do run_server "$run" || rc=1; done
      ;;
    *) die "usage: run.sh list | [baseline] client [RUN...] | [baseline] server [RUN...]" ;;
  esac
  return $rc
}

main "$@"
