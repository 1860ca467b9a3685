#!/usr/bin/env bash
# lab_relay — `antidote lab jan21` in relay mode, short: the undefended
# resolvers serve forged answers for most queries during the fault, none
# for names off the blocklist before it, keep them in cache right after it
# and drop them once the forged TTL ran out; the report, the JSON and the
# SVG come out; the injector's log explains every forged answer; Ctrl-C
# stops every child process and removes the temporary directory.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init

DATA=${ANTIDOTE_DATA:-$E2E_ROOT/../shared/data}
if [ ! -f "$DATA/gfwlist-2026-08.b64" ]; then
	echo "# no data directory at $DATA: skipping"
	pass "skipped (no ../shared/data)"
	e2e_finish
fi
if ! command -v dnsmasq >/dev/null && [ ! -x /usr/sbin/dnsmasq ] && [ ! -x /usr/sbin/unbound ]; then
	pass "skipped (neither dnsmasq nor unbound installed)"
	e2e_finish
fi

"$ANTIDOTE" lab --help >"$E2E_TMP/help" 2>&1 && grep -q 'jan21' "$E2E_TMP/help" \
	&& pass "lab --help lists jan21" || fail "lab --help"
"$ANTIDOTE" lab nosuch >/dev/null 2>&1; [ $? -eq 2 ] && pass "unknown scenario: exit 2" || fail "unknown scenario"
"$ANTIDOTE" lab jan21 --data "$E2E_TMP/none" >/dev/null 2>"$E2E_TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'data directory' "$E2E_TMP/err" && pass "missing --data: clear error" \
	|| fail "missing --data: rc $rc, $(cat "$E2E_TMP/err")"

JSON=$E2E_TMP/lab.json SVG=$E2E_TMP/lab.svg
start=$(date +%s%N)
timeout 90 "$ANTIDOTE" lab jan21 --data "$DATA" --duration 15 --fault-start 4 --fault-length 6 --forged-ttl 3 \
	--rate 300 --json "$JSON" --svg "$SVG" >"$E2E_TMP/out" 2>"$E2E_TMP/errout"
rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
cat "$E2E_TMP/out"
[ $rc -eq 0 ] && pass "lab jan21 ran (${took} ms)" || { fail "lab jan21 exit $rc"; tail -5 "$E2E_TMP/errout"; e2e_finish; }
grep -q '^resolver  *queries' "$E2E_TMP/out" && pass "report table printed" || fail "no report table"
[ -s "$JSON" ] && pass "JSON written" || fail "no JSON"
grep -q '</svg>' "$SVG" && grep -q 'fault window' "$SVG" && grep -q '<polyline' "$SVG" \
	&& pass "SVG written (timeline, fault window)" || fail "SVG"

# One line per resolver: name defended q_before fu_before q_fault f_fault
# left_asked left_forged end_forged confirmed unconfirmed total_answers
# end_answered total_forged
rows=$(awk '
	function num(s, k,   m) { if (match(s, "\"" k "\": [0-9.]+")) { m = substr(s, RSTART, RLENGTH); sub(/.*: /, "", m); return m } return -1 }
	/^    \{"name": / { if (name != "") print row; name = $0; sub(/.*"name": "/, "", name); sub(/".*/, "", name)
		def = ($0 ~ /"defended": true/) ? 1 : 0; row = "" }
	/^     "queries":/ { ans = num($0, "answers"); tf = num($0, "forged") }
	/^     "before":/ { qb = num($0, "queries"); fub = num($0, "forged_unblocked") }
	/^     "fault":/ { qf = num($0, "queries"); ff = num($0, "forged") }
	/^     "cache_left":/ { s = $0; sub(/"end":.*/, "", s); la = num(s, "asked"); lf = num(s, "forged")
		e = $0; sub(/.*"end":/, "", e); ef = num(e, "forged"); ea = num(e, "answered") }
	/^     "injector_log":/ { c = num($0, "confirmed"); u = num($0, "unconfirmed")
		row = name " " def " " qb " " fub " " qf " " ff " " la " " lf " " ef " " c " " u " " ans " " ea " " tf }
	END { if (name != "") print row }' "$JSON")
[ -n "$rows" ] || fail "no resolver in the JSON"
undefended=0
while read -r name def qb fub qf ff la lf ef c u ans ea tf; do
	[ -n "$name" ] || continue
	[ "$ans" -gt 0 ] && pass "$name: $ans answers" || fail "$name: no answers"
	if [ "$name" = antidote-on ]; then # the defence: nothing forged, ever
		[ "$tf" -eq 0 ] && [ "$c" -eq 0 ] && [ "$u" -eq 0 ] && pass "$name: 0 forged answers served of $ans" \
			|| fail "$name: $tf forged answers served with the defence on"
		continue
	fi
	[ "$qb" -gt 0 ] && [ "$fub" -eq 0 ] && pass "$name: 0 forged answers off the blocklist before the fault ($qb queries)" \
		|| fail "$name: $fub forged answers off the blocklist before the fault"
	[ "$u" -eq 0 ] && [ "$c" -gt 0 ] && pass "$name: all $c forged answers found in the injector's log" \
		|| fail "$name: injector log explains $c, not $u"
	[ "$def" -eq 1 ] && continue
	undefended=$((undefended + 1))
	share=$(awk -v f="$ff" -v q="$qf" 'BEGIN { printf "%.3f", q ? f / q : 0 }')
	awk -v s="$share" 'BEGIN { exit !(s >= 0.60) }' && pass "$name: forged share during the fault $share >= 0.60" \
		|| fail "$name: forged share during the fault $share < 0.60"
	[ "$la" -gt 0 ] && [ "$lf" -gt 0 ] && pass "$name: $lf/$la forged entries left in cache right after the fault" \
		|| fail "$name: no forged entries left after the fault ($lf/$la)"
	[ "$ef" -eq 0 ] && [ "$ea" -gt 0 ] && pass "$name: none of $ea left once the forged TTL ran out" \
		|| fail "$name: $ef of $ea answered still forged at the end"
done <<<"$rows"
[ $undefended -ge 1 ] && pass "$undefended undefended resolvers measured" || fail "no undefended resolver ran"

# Ctrl-C: every child stops, the temp dir goes
"$ANTIDOTE" lab jan21 --data "$DATA" --duration 30 --sites 300 >/dev/null 2>"$E2E_TMP/int.err" &
lab=$!
E2E_PIDS+=($lab)
dir=""
for i in $(seq 100); do
	dir=$(grep -o '/[^ ]*antidote-lab-[A-Za-z0-9]*' "$E2E_TMP/int.err" | head -1)
	grep -q '^resolvers:' "$E2E_TMP/int.err" && break
	sleep 0.1
done
sleep 1
pat="[${dir:0:1}]${dir:1}" # a pattern that does not match grep's own command line
kids=$(grep -l -a -- "$pat" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)
kill -INT $lab
wait $lab; rc=$?
[ $rc -eq 130 ] && pass "SIGINT: exit 130" || fail "SIGINT: exit $rc"
sleep 0.3
left=$(grep -l -a -- "$pat" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)
[ -n "$dir" ] && [ "$kids" -ge 3 ] && [ "$left" -eq 0 ] && pass "SIGINT: $kids child processes gone" \
	|| fail "SIGINT: dir '$dir', $kids children before, $left left"
[ -n "$dir" ] && [ ! -e "$dir" ] && pass "SIGINT: $dir removed" || fail "SIGINT: $dir still there"
e2e_finish
