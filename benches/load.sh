#!/usr/bin/env bash
# End-to-end load run of the reference server over loopback with wrk:
# GET /health (no authentication) against GET /users (valid token, scope users:read),
# with the verified-token cache off and on, and /health sent the same Authorization header
# (request size without authentication). Server and wrk share this machine's cores.
#
#   benches/load.sh                      # ES256, 10 s per run, 2 wrk threads, 32 connections
#   ALG=RS256 DURATION=30s benches/load.sh
#   PAIRS=0 benches/load.sh              # without the alternating pairs (11 pairs of 2 s)
set -euo pipefail
cd "$(dirname "$0")/.."
ALG=${ALG:-ES256}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
PAIRS=${PAIRS:-11}
PAIR_DURATION=${PAIR_DURATION:-2s}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

cargo build -q --release --example resource_server --example mint_token
tmp=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
token=$(target/release/examples/mint_token --alg "$ALG" --jwks "$tmp/jwks.json" users:read 2>/dev/null)

start_server() {
  RS_BIND=127.0.0.1:0 RS_ISSUER=https://issuer.test RS_AUDIENCE=https://api.test \
    RS_JWKS_FILE="$tmp/jwks.json" RS_TOKEN_CACHE="$1" \
    target/release/examples/resource_server >"$tmp/out" 2>"$tmp/err" &
  server=$!
  for _ in $(seq 50); do
    addr=$(sed -n 's/^listening on //p' "$tmp/out")
    [ -n "$addr" ] && return 0
    sleep 0.1
  done
  echo "server did not start: $(cat "$tmp/err")" >&2
  exit 1
}

# Server CPU time (utime + stime) in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }

run() { # label, path, [header]
  local out t0 t1
  t0=$(cpu_ticks)
  if [ $# -eq 3 ]; then
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$3" "$addr$2")
  else
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$addr$2")
  fi
  t1=$(cpu_ticks)
  local rps p50 p99 non2xx requests cpu_us
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  # Server CPU per request: steadier than req/s when wrk shares the cores.
  cpu_us=$(awk -v t="$((t1 - t0))" -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.2f", t * 1e6 / hz / n }')
  rps() { # path, [header]
  if [ $# -eq 2 ]; then
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$PAIR_DURATION" -H "$2" "$addr$1"
  else
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$PAIR_DURATION" "$addr$1"
  fi | awk '/Requests\/sec/ {print $2}'
}

printf '%-34s %12s %10s %10s %8s %12s\n' "$1" "$rps" "$p50" "$p99" "${non2xx:-0}" "$cpu_us"
}

printf '%-34s %12s %10s %10s %8s %12s\n' "run ($ALG, $CONNECTIONS conn, $DURATION)" "req/s" "p50" "p99" "non-2xx" "server µs/req"
for cache in 0 10000; do
  start_server "$cache"
  label="cache $([ "$cache" = 0 ] && echo off || echo on)"
  run "GET /health ($label)" /health
  run "GET /users, valid token ($label)" /users "Authorization: Bearer $token"
  if [ "$cache" != 0 ]; then
    # The same request bytes without the work: /health ignores the header. What separates
    # this row from /users is the layers; what separates it from plain /health is the size.
    run "GET /health, same header ($label)" /health "Authorization: Bearer $token"
  fi
  if [ "$cache" != 0 ] && [ "$PAIRS" -gt 0 ]; then
    # Throughput drifts between runs on a shared machine by more than the gap measured, so
    # also alternate short runs of the two routes and take the median of the pairs' ratios.
    ratios=()
    for _ in $(seq "$PAIRS"); do
      h=$(rps /health)
      u=$(rps /users "Authorization: Bearer $token")
      ratios+=("$(awk -v u="$u" -v h="$h" 'BEGIN { printf "%.4f", u / h }')")
    done
    printf '%s\n' "${ratios[@]}" | sort -n | awk -v n="$PAIRS" -v d="$PAIR_DURATION" '
      { r[NR] = $1 }
      END { printf "GET /users / GET /health (cache on), %d alternating pairs of %s: median %.1f %% (quartiles %.1f–%.1f %%)\n",
            n, d, 100 * r[int((n + 1) / 2)], 100 * r[int((n + 3) / 4)], 100 * r[int((3 * n + 3) / 4)] }'
  fi
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
done
