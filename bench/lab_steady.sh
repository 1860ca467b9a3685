#!/usr/bin/env bash
# lab_steady — the watch acceptance's steady state: `antidote lab` with
# `antidote watch` beside every resolver for 10 minutes without a fault
# (scenario gfw: steady injection of the blocklisted names; or calm), and
# zero incidents expected. Not run by `make test` (it takes the whole
# duration); run it by hand:
#   bash bench/lab_steady.sh [SCENARIO] [SECONDS]     (default gfw 600)
# Environment: ANTIDOTE (default build/antidote), ANTIDOTE_DATA, RATE
# (user queries/s per resolver, default 200), RESOLVERS (default: all).
# Prints the watch table and a last line "steady: PASS|FAIL ...";
# exit 0 only with zero incidents and every watch ready.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${ANTIDOTE:=$ROOT/build/antidote}"
DATA=${ANTIDOTE_DATA:-$ROOT/../shared/data}
SC=${1:-gfw}
DUR=${2:-600}
TMP=$(mktemp -d /tmp/antidote-steady.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
args=(lab "$SC" --data "$DATA" --duration "$DUR" --rate "${RATE:-200}" --no-probe --json "$TMP/steady.json" --quiet)
[ -n "${RESOLVERS:-}" ] && args+=(--resolvers "$RESOLVERS")
start=$(date +%s)
timeout $((DUR + 120)) "$ANTIDOTE" "${args[@]}" >"$TMP/out" 2>"$TMP/err"
rc=$?
took=$(($(date +%s) - start))
sed -n '/^resolver /,$p' "$TMP/out"
if [ $rc -ne 0 ]; then
	echo "steady: FAIL: antidote lab exit $rc: $(tail -3 "$TMP/err")"
	exit 1
fi
nw=$(grep -c '^     "watch": {' "$TMP/steady.json")
nready=$(grep '^     "watch": {' "$TMP/steady.json" | grep -c '"ready": true')
rounds=$(grep -o '"rounds": [0-9]*' "$TMP/steady.json" | awk '{ s += $2 } END { print s + 0 }')
queries=$(grep '^     "watch": {' "$TMP/steady.json" | grep -o '"queries": [0-9]*' | awk '{ s += $2 } END { print s + 0 }')
timeouts=$(grep '^     "watch": {' "$TMP/steady.json" | grep -o '"timeouts": [0-9]*' | awk '{ s += $2 } END { print s + 0 }')
inc=$(grep -o '"false_positives": [0-9]*' "$TMP/steady.json" | awk '{ s += $2 } END { print s + 0 }')
msg="$SC for $DUR s ($took s wall): $nw watches ($nready ready), $rounds rounds, $queries canary queries, $timeouts timeouts, $inc incidents"
if [ "$nw" -ge 1 ] && [ "$nready" -eq "$nw" ] && [ "$inc" -eq 0 ]; then
	echo "steady: PASS: $msg"
	exit 0
fi
echo "steady: FAIL: $msg"
grep -o '"incidents": \[[^]]*\]' "$TMP/steady.json" | grep -v '\[\]' | head -5
exit 1
