#!/usr/bin/env bash
# lab_watch — `antidote watch` and `antidote probe` inside `antidote lab`:
#  1. a short jan21 (fault 4-9 s of 14 s): each undefended resolver's watch
#     raises the hijack within 2 s of the fault's start and clears it after
#     the fault's end; no watch raises anything outside the window; the
#     table, the JSON "watch" objects and the SVG marks come out; what the
#     defended resolver's watch saw is printed (not asserted: the defence
#     is tested elsewhere).
#  2. a short gfw: the border measured by `antidote probe --silent` at a
#     replica of it: the censored-name set with precision and recall >=
#     0.99 against the injector's log, every injector's pool recovered, the
#     rule kind right for >= 95% of the bases (generated nine-kind set plus
#     the blocklisted zones); no watch incident in steady gfw injection.
# The 10-minute steady state is bench/lab_steady.sh (not run by make test).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init

DATA=${ANTIDOTE_DATA:-$E2E_ROOT/../shared/data}
if [ ! -f "$DATA/gfwlist-2026-08.b64" ]; then
	pass "skipped (no data directory at $DATA)"
	e2e_finish
fi
RES=dnsmasq,unbound,antidote-off,antidote-on

# num FIELD TEXT -> the number after "FIELD": (or "null")
num() { echo "$2" | grep -o "\"$1\": [-0-9.a-z]*" | head -1 | sed 's/.*: //'; }

# ---- 1. jan21
JSON=$E2E_TMP/jan21.json SVG=$E2E_TMP/jan21.svg
start=$(date +%s%N)
timeout 90 "$ANTIDOTE" lab jan21 --data "$DATA" --duration 14 --fault-start 4 --fault-length 5 --forged-ttl 3 \
	--rate 150 --sites 1000 --resolvers "$RES" --json "$JSON" --svg "$SVG" >"$E2E_TMP/out" 2>"$E2E_TMP/err"
rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
sed -n '/^watch /,/set-up/p' "$E2E_TMP/out" | sed 's/^/# /'
[ $rc -eq 0 ] && pass "lab jan21 with watches ran (${took} ms)" || { fail "lab jan21 exit $rc: $(tail -3 "$E2E_TMP/err")"; e2e_finish; }
grep -q '^watch  *ready  *rounds  *detect' "$E2E_TMP/out" && pass "watch table printed" || fail "no watch table"
grep -q 'watch incidents: raise' "$SVG" && pass "SVG marks the watch incidents" || fail "no watch marks in the SVG"
# name defended watch-line, one per resolver
rows=$(awk '/^    \{"name": / { name = $0; sub(/.*"name": "/, "", name); sub(/".*/, "", name)
	def = ($0 ~ /"defended": true/) ? 1 : 0 }
	/^     "watch": / { w = $0; sub(/^     "watch": /, "", w); print name " " def " " w }' "$JSON")
[ -n "$rows" ] || fail "no watch objects in the JSON"
undefended=0
while read -r name def w; do
	[ -n "$name" ] || continue
	ready=$(num ready "$w") det=$(num detect_s "$w") clr=$(num clear_s "$w") fp=$(num false_positives "$w")
	rs=$(num ready_s "$w")
	[ "$ready" = true ] && awk -v r="$rs" 'BEGIN { exit !(r < 4) }' && pass "$name: watch ready before the fault ($rs s)" ||
		fail "$name: watch ready $ready at $rs s"
	[ "$fp" = 0 ] && pass "$name: no incident outside the fault window" || fail "$name: $fp false positives: $w"
	if [ "$def" = 1 ]; then
		echo "# $name (defended): detect $det, incidents: $(echo "$w" | grep -o '"incidents": .*')"
		continue
	fi
	undefended=$((undefended + 1))
	awk -v d="$det" 'BEGIN { exit !(d != "null" && d >= 0 && d <= 2) }' &&
		pass "$name: hijack raised $det s after the fault's start (<= 2 s)" || fail "$name: detect $det: $w"
	awk -v c="$clr" 'BEGIN { exit !(c != "null" && c > 0 && c <= 5) }' &&
		pass "$name: cleared $clr s after the fault's end" || fail "$name: clear $clr: $w"
done <<<"$rows"
[ $undefended -ge 1 ] && pass "$undefended undefended resolvers watched" || fail "no undefended resolver watched"

# ---- 2. gfw: the probe's measurement of the border, and steady watches
JSON=$E2E_TMP/gfw.json
start=$(date +%s%N)
timeout 120 "$ANTIDOTE" lab gfw --data "$DATA" --duration 5 --rate 100 --resolvers antidote-off,dnsmasq \
	--json "$JSON" >"$E2E_TMP/gout" 2>"$E2E_TMP/gerr"
rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
sed -n '/^probe:/,/probe runs/p' "$E2E_TMP/gout" | sed 's/^/# /'
[ $rc -eq 0 ] && pass "lab gfw with the probe ran (${took} ms)" || { fail "lab gfw exit $rc: $(tail -3 "$E2E_TMP/gerr")"; e2e_finish; }
p=$(tr -d '\n' <"$JSON" | grep -o '"probe": {.*"kinds": {[^}]*}')
[ -n "$p" ] && [ "$(num ok "$p")" = true ] && pass "JSON probe object" || fail "no probe object: $(grep -A3 '"probe"' "$JSON")"
prec=$(num precision "$p") rec=$(num recall "$p") asked=$(num asked "$p") truth=$(num truth "$p")
awk -v p="$prec" -v r="$rec" 'BEGIN { exit !(p >= 0.99 && r >= 0.99) }' &&
	pass "censored names: precision $prec, recall $rec ($truth forged of $asked asked)" ||
	fail "censored names: precision $prec, recall $rec"
[ "${truth:-0}" -gt 0 ] && pass "the injector forged $truth names" || fail "nothing forged"
inlog=$(num in_log "$p") rec_pools=$(num pools_recovered "$p")
[ "${inlog:-0}" -ge 3 ] && [ "$rec_pools" = "$inlog" ] && pass "every injector's pool recovered ($rec_pools/$inlog)" ||
	fail "pools recovered $rec_pools of $inlog"
acc=$(num accuracy "$p") bases=$(num bases "$p")
awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }' && pass "rule kind right for $acc of $bases bases (>= 0.95)" ||
	fail "rule kind accuracy $acc of $bases: $(echo "$p" | grep -o '"wrong": .*')"
gb=$(echo "$p" | grep -o '"generated": {"bases": [0-9]*' | grep -o '[0-9]*$')
[ "${gb:-0}" -ge 9 ] && pass "generated nine-kind set probed ($gb bases)" || fail "generated bases: $gb"
nfp=$(grep -o '"false_positives": [0-9]*' "$JSON" | awk '{ s += $2 } END { print s + 0 }')
nw=$(grep -c '^     "watch": {' "$JSON")
[ "$nw" -ge 1 ] && [ "$nfp" -eq 0 ] && pass "steady gfw injection: $nw watches, no incident" || fail "gfw: $nfp incidents in $nw watches"

# ---- options
"$ANTIDOTE" lab gfw --watch-interval 0 >/dev/null 2>&1; [ $? -eq 2 ] && pass "bad --watch-interval: exit 2" ||
	fail "--watch-interval 0 accepted"
"$ANTIDOTE" lab --help | has -- '--no-watch' && pass "--help documents the watch options" || fail "--help"
e2e_finish
