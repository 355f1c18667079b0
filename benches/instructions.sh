#!/usr/bin/env bash
# Instructions per request under callgrind, and their ratio to the floor's
# (jsonwebtoken::decode, same token, same key, same claims type). See benches/instructions.rs.
#
#   benches/instructions.sh                  # every algorithm, every case
#   ALGS="HS256 EdDSA" N=500 benches/instructions.sh
#   BIN=/tmp/instructions-before benches/instructions.sh          # a binary built elsewhere
#   CASES="floor_forged reject_forged" benches/instructions.sh   # rejections (see REJECTIONS)
#
# A `reject_<kind>` case's ratio is to the `floor_<kind>` case run before it (the floor's
# own rejection of the same token); every other case's is to `floor`.
set -euo pipefail
cd "$(dirname "$0")/.."
ALGS=${ALGS:-HS256 RS256 PS256 ES256 EdDSA}
CASES=${CASES:-floor signature validate cache_hit tower router outer bare_router router_cache_hit macro_cache_hit}
N=${N:-1000}
command -v valgrind >/dev/null || { echo "valgrind is required (apt-get install valgrind)" >&2; exit 1; }

# BIN: an instructions binary built elsewhere (another commit, for a before/after).
bin=${BIN:-$(cargo bench --bench instructions --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*instructions[^"]*\)".*/\1/p' | tail -1)}
[ -x "$bin" ] || { echo "could not build the instructions bench" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Instructions executed inside `measured` for `n` requests.
count() { # alg case n
  valgrind --tool=callgrind --toggle-collect='*measured*' \
    --callgrind-out-file="$tmp/out" "$bin" "$1" "$2" "$3" >/dev/null 2>"$tmp/log" ||
    { cat "$tmp/log" >&2; exit 1; }
  sed -n 's/^summary: *//p' "$tmp/out"
}

printf '%-6s %-18s %12s %8s\n' alg case instr/req "x floor"
for alg in $ALGS; do
  floor=""
  declare -A floors=()
  BENCH_TOKEN=$(env -u BENCH_TOKEN "$bin" "$alg" token)
  export BENCH_TOKEN
  for case in $CASES; do
    one=$(count "$alg" "$case" "$N")
    two=$(count "$alg" "$case" $((2 * N)))
    per=$(( (two - one) / N ))
    [ "$case" = floor ] && floor=$per
    case "$case" in
      floor_*) floors[${case#floor_}]=$per; base=$floor ;;
      reject_*) base=${floors[${case#reject_}]:-} ;;
      *) base=$floor ;;
    esac
    ratio=$([ -n "$base" ] && awk -v a="$per" -v b="$base" 'BEGIN { printf "%.3f", a / b }' || echo -)
    printf '%-6s %-18s %12d %8s\n' "$alg" "$case" "$per" "$ratio"
  done
done
