#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# luaload vs wrk on one core each, against nginx on 127.0.0.1. See bench/README.md and docs/performance.md.
#
# Per round (ROUNDS, default 3), interleaved so drift in machine state hits every tool alike:
#   wrk       plain `wrk -t1 -c100`                    (no Lua on the request path)
#   wrk_lua   wrk with bench/wrk_request.lua           (a Lua request() per request)
#   luaload   `luaload run bench/get.lua -u 100 --threads 1`
# then the memory benchmark: bench/sleepers.lua with SLEEP_VUS (10000) idle VUs.
# nginx runs pinned to SERVER_CPU (1), the load generator to LOAD_CPU (0). Every run is bounded in time.
#
# Settings (environment): ROUNDS=3 DURATION=10 (seconds) CONNS=100 SLEEP_VUS=10000 TOOLS="wrk wrk_lua luaload"
#   LUALOAD=build/luaload SERVER_CPU=1 LOAD_CPU=0 CSV=path (also write every run as CSV) PORT (default: random)
# MODE=instructions: instead, user-space instructions per request under valgrind's callgrind (exact whatever the
#   machine is doing, unlike CPU time), 10 connections/VUs, INSTR_DURATION (4) seconds per tool. luaload's
#   start-up is measured separately (`-i 10`) and subtracted.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-100}
SLEEP_VUS=${SLEEP_VUS:-10000}
TOOLS=${TOOLS:-"wrk wrk_lua luaload"}
LUALOAD=${LUALOAD:-$ROOT/build/luaload}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
NGINX=${NGINX:-/usr/sbin/nginx}
TIME=/usr/bin/time
CSV=${CSV:-}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/luaload-bench-XXXXXX")
NGINX_PID=""
RESULTS=$WORK/results.tsv   # tool round rps cpu_per_100k rss_kb

cleanup() {
  if [[ -n $NGINX_PID ]]; then
    kill -QUIT "$NGINX_PID" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bench: $*" >&2; exit 1; }

check_tools() {
  [[ -x $NGINX ]] || die "nginx not found at $NGINX (bash .ci/setup.sh)"
  [[ -x $TIME ]] || die "$TIME not found (apt-get install time)"
  command -v taskset >/dev/null || die "taskset not found (apt-get install util-linux)"
  if [[ " $TOOLS " == *" wrk"* ]]; then command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"; fi
  if [[ $(nproc) -lt 2 ]]; then
    echo "bench: warning: fewer than 2 CPUs, server and generator share CPU 0" >&2
    SERVER_CPU=0 LOAD_CPU=0
  fi
}

# Pinned, single-process nginx; keepalive_requests is raised so no tool pays for reconnects mid-run.
write_nginx_conf() {
  local port=$1
  mkdir -p "$WORK/www" "$WORK/tmp"
  printf 'hello from nginx\n' >"$WORK/www/index.html"
  cat >"$WORK/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  client_body_temp_path $WORK/tmp/client_body;
  proxy_temp_path $WORK/tmp/proxy;
  fastcgi_temp_path $WORK/tmp/fastcgi;
  uwsgi_temp_path $WORK/tmp/uwsgi;
  scgi_temp_path $WORK/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $WORK/www;
    index index.html;
  }
}
CONF
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts nginx on PORT or on a random high port, retrying when the port is taken. Sets NGINX_PID and PORT.
start_nginx() {
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=${PORT:-$((20000 + RANDOM % 40000))}
    write_nginx_conf "$port"
    rm -f "$WORK/nginx.pid"
    taskset -c "$SERVER_CPU" "$NGINX" -p "$WORK/" -c "$WORK/nginx.conf" -e "$WORK/error.log" </dev/null \
      >>"$WORK/nginx.out" 2>&1 &
    NGINX_PID=$!
    for _ in $(seq 50); do
      if [[ -s $WORK/nginx.pid ]] && port_open "$port"; then PORT=$port; return 0; fi
      kill -0 "$NGINX_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=""
    [[ -z ${PORT:-} ]] || break
  done
  cat "$WORK/error.log" "$WORK/nginx.out" >&2 2>/dev/null || true
  die "nginx did not start (attempt $attempt)"
}

# measured LABEL COMMAND...: runs COMMAND pinned to LOAD_CPU under /usr/bin/time, bounded by DURATION + 30 s.
# Output in $WORK/LABEL.out; "user sys maxrss_kb" in $WORK/LABEL.time.
measured() {
  local label=$1
  shift
  local rc=0
  timeout --kill-after=5 $((DURATION + 30)) \
    "$TIME" -f '%U %S %M' -o "$WORK/$label.time" taskset -c "$LOAD_CPU" "$@" \
    </dev/null >"$WORK/$label.out" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "bench: $label exited with $rc; output:" >&2
    tail -n 20 "$WORK/$label.out" >&2
  fi
  return $rc
}

# record TOOL ROUND REQUESTS RPS: appends one result line from the run's time file and prints it.
record() {
  local tool=$1 round=$2 requests=$3 rps=$4 user sys rss cpu100k
  read -r user sys rss <"$WORK/$tool.time"
  cpu100k=$(awk -v u="$user" -v s="$sys" -v n="$requests" 'BEGIN { printf "%.3f", (n > 0 ? (u + s) * 100000 / n : 0) }')
  printf '%s\t%s\t%s\t%s\t%s\n' "$tool" "$round" "$rps" "$cpu100k" "$rss" >>"$RESULTS"
  printf '  %-8s round %s: %10.1f req/s  %7s CPU s/100k req  %8s KB peak RSS  (%s requests)\n' \
    "$tool" "$round" "$rps" "$cpu100k" "$rss" "$requests"
}

# Requests and errors from wrk's report ("N requests in 10.00s", "Requests/sec: R", optional error lines).
run_wrk() {
  local tool=$1 round=$2
  shift 2
  measured "$tool" wrk -t1 -c"$CONNS" -d"${DURATION}s" "$@" "http://127.0.0.1:$PORT/" || return 0
  local out=$WORK/$tool.out requests rps
  requests=$(awk '/ requests in /{ print $1 }' "$out")
  rps=$(awk '/^Requests\/sec:/{ print $2 }' "$out")
  grep -E 'Non-2xx|Socket errors' "$out" | sed "s/^/  $tool: /" || true
  record "$tool" "$round" "$requests" "$rps"
}

# Count and rate of http_reqs from luaload's --summary-export JSON (k6 shape: metrics.http_reqs.values.{count,rate},
# or the flat legacy metrics.http_reqs.{count,rate}); without python3, from the summary's http_reqs line.
luaload_http_reqs() {
  local json=$1 out=$2
  if command -v python3 >/dev/null && [[ -s $json ]]; then
    python3 - "$json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]["http_reqs"]
v = m.get("values", m)
print(int(v["count"]), float(v["rate"]))
PY
  else
    awk '/http_reqs/ { for (i = 1; i <= NF; i++) if ($i ~ /\/s$/) { r = $i; sub(/\/s$/, "", r); print $(i-1), r; exit } }' "$out"
  fi
}

run_luaload() {
  local round=$1
  if [[ ! -x $LUALOAD ]]; then
    echo "  luaload  round $round: skipped, $LUALOAD not built"
    return 0
  fi
  rm -f "$WORK/summary.json"
  measured luaload "$LUALOAD" run "$BENCH_DIR/get.lua" -u "$CONNS" -d "${DURATION}s" --threads 1 --quiet \
    -e "URL=http://127.0.0.1:$PORT/" --summary-export "$WORK/summary.json" || return 0
  local requests rps
  read -r requests rps < <(luaload_http_reqs "$WORK/summary.json" "$WORK/luaload.out")
  [[ -n ${rps:-} ]] || { echo "bench: no http_reqs in luaload's output" >&2; return 0; }
  record luaload "$round" "$requests" "$rps"
}

# median TOOL COLUMN (3 = req/s, 4 = CPU s/100k, 5 = RSS); empty when the tool has no results.
median() {
  awk -F'\t' -v t="$1" -v c="$2" '$1 == t { print $c }' "$RESULTS" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

ratio() {
  [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }' || echo "n/a"
}

summarize() {
  echo
  echo "Medians over $ROUNDS round(s), ${DURATION} s each, $CONNS connections/VUs:"
  local tool
  for tool in $TOOLS; do
    [[ -n $(median "$tool" 3) ]] || continue
    printf '  %-8s %10.1f req/s  %7.3f CPU s/100k req  %8.0f KB peak RSS\n' \
      "$tool" "$(median "$tool" 3)" "$(median "$tool" 4)" "$(median "$tool" 5)"
  done
  local ll wrk wrk_lua
  ll=$(median luaload 4) wrk=$(median wrk 4) wrk_lua=$(median wrk_lua 4)
  # Requests per generator core = 1 / CPU per request: the ratio is the other tool's CPU over luaload's.
  echo "  requests per generator core, luaload / wrk:           $(ratio "$wrk" "$ll")   (target >= 0.80x)"
  echo "  requests per generator core, luaload / scripted wrk:  $(ratio "$wrk_lua" "$ll")   (target >= 1.00x)"
  ll=$(median luaload 3) wrk=$(median wrk 3) wrk_lua=$(median wrk_lua 3)
  echo "  req/s, luaload / wrk: $(ratio "$ll" "$wrk"), luaload / scripted wrk: $(ratio "$ll" "$wrk_lua")" \
    "(equal when nginx is the bottleneck)"
  if [[ " $TOOLS " == *" luaload "* && " $TOOLS " == *" wrk_lua "* ]]; then
    echo "  per round, scripted wrk CPU / luaload CPU:" "$(awk -F'\t' '
      $1 == "wrk_lua" { w[$2] = $4 } $1 == "luaload" { l[$2] = $4 }
      END { for (r = 1; r in w; r++) if (r in l && l[r] > 0) printf " %.2f", w[r] / l[r] }' "$RESULTS")"
  fi
}

# Idle-VU memory: peak RSS of SLEEP_VUS sleeping VUs, divided by VUs (gross), and the marginal cost against a
# 1-VU run (which removes the fixed cost of the binary, LuaJIT and the loop).
run_sleepers() {
  [[ -x $LUALOAD ]] || { echo "Memory: skipped, $LUALOAD not built"; return 0; }
  echo
  echo "Memory: $SLEEP_VUS sleeping VUs for ${DURATION} s"
  local base_rss rss
  measured sleepers_1 "$LUALOAD" run "$BENCH_DIR/sleepers.lua" -u 1 -d 3s --threads 1 --quiet || return 0
  measured sleepers "$LUALOAD" run "$BENCH_DIR/sleepers.lua" -u "$SLEEP_VUS" -d "${DURATION}s" --threads 1 \
    --quiet || return 0
  read -r _ _ base_rss <"$WORK/sleepers_1.time"
  read -r _ _ rss <"$WORK/sleepers.time"
  awk -v r="$rss" -v b="$base_rss" -v n="$SLEEP_VUS" 'BEGIN {
    printf "  peak RSS %d KB (1 VU: %d KB)\n", r, b
    printf "  %.1f KB per VU gross, %.1f KB per VU marginal   (target <= 20 KB)\n", r / n, (r - b) / (n - 1) }'
}

# "Collected : N" from callgrind's report: instructions of every thread of the run.
collected() { awk '/Collected :/ { n = $NF } END { print n + 0 }' "$1"; }

run_instructions() {
  command -v valgrind >/dev/null || die "valgrind not found (apt-get install valgrind)"
  local seconds=${INSTR_DURATION:-4} tool total requests base base_requests
  echo "User-space instructions per request (callgrind, 10 connections/VUs, ${seconds} s, one thread):"
  for tool in $TOOLS; do
    case $tool in
      wrk | wrk_lua)
        local script=()
        [[ $tool == wrk_lua ]] && script=(-s "$BENCH_DIR/wrk_request.lua")
        timeout $((seconds + 120)) valgrind --tool=callgrind --callgrind-out-file=/dev/null \
          wrk -t1 -c10 -d"${seconds}s" "${script[@]}" "http://127.0.0.1:$PORT/" >"$WORK/i.out" 2>"$WORK/i.err" || true
        total=$(collected "$WORK/i.err")
        requests=$(awk '/ requests in /{ print $1 }' "$WORK/i.out")
        base=0 base_requests=0
        ;;
      luaload)
        [[ -x $LUALOAD ]] || { echo "  luaload: skipped, $LUALOAD not built"; continue; }
        local common=(run "$BENCH_DIR/get.lua" -u 10 --threads 1 --quiet -e "URL=http://127.0.0.1:$PORT/")
        timeout 120 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$LUALOAD" "${common[@]}" -i 10 \
          --summary-export "$WORK/i0.json" >/dev/null 2>"$WORK/i0.err" || true
        timeout $((seconds + 120)) valgrind --tool=callgrind --callgrind-out-file=/dev/null "$LUALOAD" "${common[@]}" \
          -d "${seconds}s" --summary-export "$WORK/i.json" >/dev/null 2>"$WORK/i.err" || true
        base=$(collected "$WORK/i0.err")
        total=$(collected "$WORK/i.err")
        read -r base_requests _ < <(luaload_http_reqs "$WORK/i0.json" /dev/null)
        read -r requests _ < <(luaload_http_reqs "$WORK/i.json" /dev/null)
        ;;
      *) die "unknown tool '$tool' in TOOLS" ;;
    esac
    awk -v t="$tool" -v a="$total" -v b="$base" -v n="$requests" -v m="$base_requests" 'BEGIN {
      if (n - m > 0) printf "  %-8s %8.0f instructions/request  (%d requests)\n", t, (a - b) / (n - m), n - m
      else printf "  %-8s no requests measured\n", t }'
  done
}

main() {
  check_tools
  if [[ ${MODE:-} == instructions ]]; then
    start_nginx
    run_instructions
    return
  fi
  start_nginx
  echo "nginx on 127.0.0.1:$PORT (CPU $SERVER_CPU), load generators on CPU $LOAD_CPU"
  : >"$RESULTS"
  local round tool
  for round in $(seq "$ROUNDS"); do
    echo "Round $round/$ROUNDS"
    for tool in $TOOLS; do
      case $tool in
        wrk) run_wrk wrk "$round" ;;
        wrk_lua) run_wrk wrk_lua "$round" -s "$BENCH_DIR/wrk_request.lua" ;;
        luaload) run_luaload "$round" ;;
        *) die "unknown tool '$tool' in TOOLS" ;;
      esac
    done
  done
  summarize
  if [[ -n $CSV ]]; then
    { printf 'tool,round,rps,cpu_s_per_100k,peak_rss_kb\n'; tr '\t' ',' <"$RESULTS"; } >"$CSV"
    echo "  runs written to $CSV"
  fi
  if [[ " $TOOLS " == *" luaload "* ]]; then run_sleepers; fi
}

main "$@"
