# lab_check.bash — checks shared by lab_relay.sh and lab_netns.sh (sourced,
# not a test): the report of a short `antidote lab jan21` run. Uses the
# caller's rc, start, JSON, SVG, E2E_TMP and lib.sh's pass/fail/e2e_finish.

lab_check_report() {
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
}
