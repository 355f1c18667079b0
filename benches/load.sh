#!/usr/bin/env bash
# End-to-end load run of the reference server over loopback with wrk:
# GET /health (no authentication) against GET /users (valid token, scope users:read),
# with the verified-token cache off and on, and /health sent the same Authorization header
# (request size without authentication). Server and wrk share this machine's cores.
#
#   benches/load.sh                      # ES256, 10 s per run, 2 wrk threads, 32 connections
#   ALG=RS256 DURATION=30s benches/load.sh
#   PAIRS=0 benches/load.sh              # without the alternating pairs (11 pairs of 2 s)
#   FLOOD_ONLY=1 benches/load.sh         # only the flood: refused tokens against GET /health
#
# The flood (FLOOD=1, the default): what a stream of refused tokens costs the server, as the
# throughput of GET /users with each against GET /health, in alternating pairs of short runs
# (FLOOD_PAIRS, default 7): a forged HS256 token (an algorithm-confusion forgery: `alg`
# HS256 and the `kid` of the server's key, refused before any signature check), the valid
# token with its signature altered (a full signature check, then refused), 64 KiB of
# base64url garbage (refused by the length cap), and no token. /health with the garbage in
# its Authorization header (which /health ignores) separates moving 64 KiB from refusing it.
# Each row gives the throughput ratio and the ratio of the server's CPU time per request
# (/health's over the row's), which wrk's share of the cores does not blur.
set -euo pipefail
cd "$(dirname "$0")/.."
ALG=${ALG:-ES256}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
PAIRS=${PAIRS:-11}
PAIR_DURATION=${PAIR_DURATION:-2s}
FLOOD=${FLOOD:-1}
FLOOD_ONLY=${FLOOD_ONLY:-0}
FLOOD_PAIRS=${FLOOD_PAIRS:-7}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }

# BIN_DIR: the two examples built elsewhere (another commit, for a before/after).
BIN_DIR=${BIN_DIR:-}
if [ -z "$BIN_DIR" ]; then
  cargo build -q --release --example resource_server --example mint_token
  BIN_DIR=target/release/examples
fi
tmp=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
token=$("$BIN_DIR"/mint_token --alg "$ALG" --jwks "$tmp/jwks.json" users:read 2>/dev/null)

start_server() {
  RS_BIND=127.0.0.1:0 RS_ISSUER=https://issuer.test RS_AUDIENCE=https://api.test \
    RS_JWKS_FILE="$tmp/jwks.json" RS_TOKEN_CACHE="$1" \
    "$BIN_DIR"/resource_server >"$tmp/out" 2>"$tmp/err" &
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
  printf '%-34s %12s %10s %10s %8s %12s\n' "$1" "$rps" "$p50" "$p99" "${non2xx:-0}" "$cpu_us"
}

rps() { # path, [header]
  if [ $# -eq 2 ]; then
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$PAIR_DURATION" -H "$2" "$addr$1"
  else
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$PAIR_DURATION" "$addr$1"
  fi | awk '/Requests\/sec/ {print $2}'
}

# The status and the start of the error description of one request.
status_of() { # path, [header]
  local args=(-s -o /dev/null -D - "$addr$1")
  [ $# -eq 2 ] && args+=(-H "$2")
  curl "${args[@]}" | awk 'NR == 1 {s = $2} tolower($1) == "www-authenticate:" {d = $0}
    END { if (d ~ /error_description/) { sub(/.*error_description="/, "", d); sub(/".*/, "", d) } else { sub(/^[^:]*: */, "", d) }
          print s, d }'
}

# One short run: "requests/s server-µs-per-request" (the server's CPU time, utime + stime,
# over the requests wrk completed: steadier than the rate while wrk shares the cores).
rps_cpu() { # path, [header]
  local t0 t1 out
  t0=$(cpu_ticks)
  if [ $# -eq 2 ]; then
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$PAIR_DURATION" -H "$2" "$addr$1")
  else
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$PAIR_DURATION" "$addr$1")
  fi
  t1=$(cpu_ticks)
  awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" '
    /Requests\/sec/ { r = $2 } / requests in / { n = $1 }
    END { printf "%s %.4f", r, t * 1e6 / hz / n }' <<<"$out"
}

# Alternating pairs of short runs (/health, then the path): the median and quartiles of the
# throughput ratio, and of the ratio of the server's CPU time per request (/health's over
# the path's: the throughput ratio the server alone would reach).
pair_ratios() { # label, pairs, path A (over /health), [header A], [header for /health]
  local label=$1 n=$2 path=$3 header=${4:-} base=${5:-} rows=() h a
  for _ in $(seq "$n"); do
    if [ -n "$base" ]; then h=$(rps_cpu /health "$base"); else h=$(rps_cpu /health); fi
    if [ -n "$header" ]; then a=$(rps_cpu "$path" "$header"); else a=$(rps_cpu "$path"); fi
    rows+=("$(awk -v a="$a" -v h="$h" 'BEGIN { split(a, x, " "); split(h, y, " ");
      printf "%.4f %.4f", x[1] / y[1], y[2] / x[2] }')")
  done
  local rate cpu
  rate=$(printf '%s\n' "${rows[@]}" | awk '{ print $1 }' | sort -n | quartiles "$n")
  cpu=$(printf '%s\n' "${rows[@]}" | awk '{ print $2 }' | sort -n | quartiles "$n")
  printf '%-58s %d pairs of %s: throughput %s; server CPU %s\n' "$label" "$n" "$PAIR_DURATION" "$rate" "$cpu"
}

# "median M % (Q1–Q3 %)" of n sorted ratios on stdin.
quartiles() {
  awk -v n="$1" '{ r[NR] = $1 }
    END { printf "%.1f %% (%.1f–%.1f %%)", 100 * r[int((n + 1) / 2)], 100 * r[int((n + 3) / 4)], 100 * r[int((3 * n + 3) / 4)] }'
}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

flood() {
  local kid header payload hs256 forged garbage
  kid=$(sed -n 's/.*"kid": *"\([^"]*\)".*/\1/p' "$tmp/jwks.json" | head -1)
  payload=$(cut -d. -f2 <<<"$token")
  header=$(printf '{"alg":"HS256","typ":"at+jwt","kid":"%s"}' "$kid" | b64url)
  hs256="$header.$payload.$(printf 'not the issuer%.0s' 1 2 3 | b64url)"
  # The valid token with one character of its signature changed.
  local sig=${token##*.}
  local c=${sig:10:1}
  forged="${token%.*}.${sig:0:10}$([ "$c" = A ] && echo B || echo A)${sig:11}"
  garbage=$(head -c 49152 /dev/urandom | b64url)
  garbage="${garbage:0:21845}.${garbage:21845:21845}.${garbage:43690}"
  start_server 10000
  printf '\nflood (%s server, token cache on, %d conn): status of each\n' "$ALG" "$CONNECTIONS"
  for t in "forged HS256:$hs256" "altered $ALG signature:$forged" "64 KiB garbage:$garbage"; do
    printf '  %-28s %s\n' "${t%%:*}" "$(status_of /users "Authorization: Bearer ${t#*:}")"
  done
  printf '  %-28s %s\n' "no token" "$(status_of /users)"
  local h="Authorization: Bearer $hs256" f="Authorization: Bearer $forged"
  local g="Authorization: Bearer $garbage"
  pair_ratios "/users forged HS256 / /health" "$FLOOD_PAIRS" /users "$h"
  pair_ratios "/users forged HS256 / /health same header" "$FLOOD_PAIRS" /users "$h" "$h"
  pair_ratios "/users 64 KiB garbage / /health" "$FLOOD_PAIRS" /users "$g"
  pair_ratios "/users 64 KiB garbage / /health same header" "$FLOOD_PAIRS" /users "$g" "$g"
  pair_ratios "/health with the 64 KiB header / /health" "$FLOOD_PAIRS" /health "$g"
  pair_ratios "/users no token / /health" "$FLOOD_PAIRS" /users
  pair_ratios "/users altered $ALG signature / /health same header" "$FLOOD_PAIRS" /users "$f" "$f"
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

if [ "$FLOOD_ONLY" = 1 ]; then
  flood
  exit 0
fi

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
if [ "$FLOOD" = 1 ]; then flood; fi
