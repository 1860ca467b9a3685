#!/usr/bin/env bash
# serve_xfr — zone transfers out of `antidote serve --allow-transfer`:
# dig AXFR gets exactly the zone's records with the SOA first and last;
# IXFR is answered with the whole zone; a 20,000-name zone spans many
# messages; Knot (Debian's knotd) as a secondary transfers the zone and
# answers like the primary; clients outside the list and UDP are refused;
# a name that is not a zone apex gets NOTAUTH; without --allow-transfer
# nothing is transferred. TSIG (RFC 8945): `dig -y` transfers from a
# key-only --allow-transfer with every message signed and verified by dig;
# a wrong secret gets BADSIG, an unknown key BADKEY, an unsigned request
# or a key not allowed from that address is refused; signed ordinary
# queries are answered signed; Knot transfers over TSIG, and the NOTIFY
# to it is signed (its acl requires the key).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init
ZC=$TOOLS/zonecat
[ -x "$ZC" ] || { fail "tool $ZC missing (make)"; e2e_finish; }
Z1=$E2E_ZONES/example.com.zone Z2=$E2E_ZONES/nsec3.test.zone
bash "$E2E_ROOT/bench/gen-zone.sh" "$E2E_TMP" 20000 >/dev/null || { fail "gen-zone"; e2e_finish; }
ZB=$E2E_TMP/bench.test.zone

# xfr_start [OPTIONS]: antidote serve (lib.sh server_start) with the
# three zones and OPTIONS; sets XP, XPID; its stderr is $XERR
XERR=$E2E_TMP/X/stderr
xfr_start() {
	server_start antidote X "example.com=$Z1" "nsec3.test=$Z2" "bench.test=$ZB" "$@" || return 1
	XP=$X_PORT XPID=$X_PID
}
# norm: records of dig/zonecat output, one canonical line each, sorted
# (presentation details -- quotes, spaces, base64 line breaks -- squeezed
# out, as dig and zonecat print them differently)
norm() {
	grep -v '^;' | grep -v '^$' |
		awk '{ o = tolower($1); r = ""; for (i = 3; i <= NF; i++) r = r $i; gsub(/"/, "", r); print o " " r }' |
		LC_ALL=C sort
}
# qa PORT QUESTION...: status and answer section, normalised
qa() {
	local port=$1
	shift
	dig @127.0.0.1 -p "$port" "$@" +norec +time=2 | grep -o 'status: [A-Z]*'
	dig @127.0.0.1 -p "$port" "$@" +norec +noall +answer +time=2 | norm
}
xfr_start --allow-transfer 127.0.0.1 --allow-transfer ::1 || { fail "serve did not start"; e2e_finish; }

for z in example.com:$Z1 nsec3.test:$Z2 bench.test:$ZB; do
	name=${z%%:*} file=${z#*:}
	dig @127.0.0.1 -p "$XP" "$name" AXFR +time=5 >"$E2E_TMP/$name.axfr" 2>&1
	first=$(grep -v '^;' "$E2E_TMP/$name.axfr" | grep -v '^$' | head -1 | awk '{ print $4 }')
	last=$(grep -v '^;' "$E2E_TMP/$name.axfr" | grep -v '^$' | tail -1 | awk '{ print $4 }')
	msgs=$(sed -n 's/.*messages \([0-9]*\),.*/\1/p' "$E2E_TMP/$name.axfr")
	# the transfer without its closing SOA is the zone, record for record
	grep -v '^;' "$E2E_TMP/$name.axfr" | grep -v '^$' | sed '$d' | norm >"$E2E_TMP/$name.got"
	"$ZC" "$file" | norm >"$E2E_TMP/$name.want"
	n=$(wc -l <"$E2E_TMP/$name.want")
	if [ "$first" = SOA ] && [ "$last" = SOA ] && cmp -s "$E2E_TMP/$name.got" "$E2E_TMP/$name.want"; then
		pass "AXFR $name: the zone's $n records exactly, SOA first and last, $msgs message(s)"
	else
		fail "AXFR $name: first $first last $last; diff: $(diff "$E2E_TMP/$name.got" "$E2E_TMP/$name.want" | head -5 | tr '\n' ' ')"
		E2E_KEEP=1
	fi
done
[ "${msgs:-0}" -gt 10 ] && pass "a 20,000-name zone spans $msgs messages" || fail "bench.test in ${msgs:-?} messages"
dig @127.0.0.1 -p "$XP" example.com IXFR=2020010101 +time=5 | grep -v '^;' | grep -v '^$' | sed '$d' | norm >"$E2E_TMP/ixfr.got"
cmp -s "$E2E_TMP/ixfr.got" "$E2E_TMP/example.com.want" && pass "IXFR answered with the whole zone (AXFR form)" ||
	fail "IXFR: $(diff "$E2E_TMP/ixfr.got" "$E2E_TMP/example.com.want" | head -3 | tr '\n' ' ')"
out=$(dig -b 127.0.1.1 @127.0.0.1 -p "$XP" example.com AXFR +time=3 2>&1)
[[ $out == *"Transfer failed"* ]] && grep -q . <<<"$out" && pass "a client outside --allow-transfer is refused" ||
	fail "outside client: $(echo "$out" | tail -3 | tr '\n' ' ')"
st=$(dig @127.0.0.1 -p "$XP" www.example.com AXFR +time=3 2>&1; grep -c 'NOTAUTH' "$XERR")
[ "$(echo "$st" | tail -1)" -ge 1 ] && pass "AXFR of a name that is not a zone apex: NOTAUTH" || fail "not-apex: $st"
st=$("$TOOLS/dnsmulti" -s "127.0.0.1:$XP" -n example.com -t 252 -c 1 -w 300 | grep -o 'flags=[0-9a-f]*' | head -1)
[ "${st: -1}" = 5 ] && pass "AXFR over UDP: REFUSED ($st)" || fail "AXFR over UDP: ${st:-no reply}"

# TSIG
S1=c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==
S2=b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXI=
BAD=YmFkLWJhZC1iYWQtYmFkLWJhZC1iYWQtYmFkLWJhZC1iYWQ=
kill "$XPID"
wait "$XPID" 2>/dev/null
xfr_start --tsig-key "hmac-sha256:xfr.key:$S1" --tsig-key "hmac-sha512:other:$S2" \
	--allow-transfer key:xfr.key --allow-transfer 127.0.0.2@key:other || { fail "serve (tsig) did not start"; e2e_finish; }
dig @127.0.0.1 -p "$XP" -y "hmac-sha256:xfr.key:$S1" bench.test AXFR +time=5 >"$E2E_TMP/tsig.axfr" 2>&1
msgs=$(sed -n 's/.*messages \([0-9]*\),.*/\1/p' "$E2E_TMP/tsig.axfr")
sigs=$(grep -c 'ANY[[:space:]]*TSIG[[:space:]]*hmac-sha256\. [0-9]* 300 32 .* NOERROR' "$E2E_TMP/tsig.axfr")
grep -v '^;' "$E2E_TMP/tsig.axfr" | grep -v TSIG | grep -v '^$' | sed '$d' | norm >"$E2E_TMP/tsig.got"
if cmp -s "$E2E_TMP/tsig.got" "$E2E_TMP/bench.test.want" && [ "${msgs:-0}" -gt 10 ] && [ "$sigs" = "$msgs" ] &&
	! grep -qiE 'could not be validated|verify|failed|BADSIG' "$E2E_TMP/tsig.axfr"; then
	pass "dig -y AXFR with a key-only ACL: the whole zone, all $msgs messages signed and verified by dig"
else
	fail "signed AXFR: msgs ${msgs:-?} signed $sigs; $(grep -iE 'fail|verif|warn' "$E2E_TMP/tsig.axfr" | head -3 | tr '\n' ' ')"
	E2E_KEEP=1
fi
kdig @127.0.0.1 -p "$XP" -y "hmac-sha256:xfr.key:$S1" example.com AXFR +time=5 >"$E2E_TMP/tsig.kdig" 2>&1
grep -q 'Received .*(1 messages, 181 records)' "$E2E_TMP/tsig.kdig" && ! grep -qiE 'warning|failed|BAD(SIG|KEY|TIME)' "$E2E_TMP/tsig.kdig" &&
	pass "kdig -y verifies the signed transfer too" || fail "kdig: $(tail -3 "$E2E_TMP/tsig.kdig" | tr '\n' ' ')"
out=$(dig @127.0.0.1 -p "$XP" -y "hmac-sha256:xfr.key:$BAD" example.com AXFR +time=3 2>&1)
[[ $out == *"Transfer failed"* && $out == *" 0 "*BADSIG* ]] && pass "a wrong secret: NOTAUTH, unsigned TSIG error BADSIG" ||
	fail "wrong secret: $(echo "$out" | tail -3 | tr '\n' ' ')"
out=$(dig @127.0.0.1 -p "$XP" -y "hmac-sha256:who:$S1" example.com AXFR +time=3 2>&1)
[[ $out == *"Transfer failed"* && $out == *BADKEY* ]] && pass "an unknown key: BADKEY" ||
	fail "unknown key: $(echo "$out" | tail -3 | tr '\n' ' ')"
# a replay (RFC 8945 §5.2.3): a query dig signed, captured, replayed once the
# key has signed a later one (more than 2 s later) -> NOTAUTH, BADTIME
RP=$(pick_port)
"$TOOLS/dnsraw" -L -w 5000 "$RP" >"$E2E_TMP/cap.hex" &
cap=$!
wait_bound "$RP" "$cap"
dig @127.0.0.1 -p "$RP" -y "hmac-sha256:xfr.key:$S1" www.example.com A +tries=1 +time=1 >/dev/null 2>&1
wait "$cap"
Q=$(cat "$E2E_TMP/cap.hex")
first=$("$TOOLS/dnsraw" -s "$XP" "$Q")
sleep 3.1
dig @127.0.0.1 -p "$XP" -y "hmac-sha256:xfr.key:$S1" www.example.com A +time=3 >"$E2E_TMP/fresh.out" 2>&1
again=$("$TOOLS/dnsraw" -s "$XP" "$Q")
if [[ $first == *" rcode=0 "* ]] && grep -q 'status: NOERROR' "$E2E_TMP/fresh.out" && [[ $again == *" rcode=9 "* ]] &&
	grep -q 'a replay?' "$XERR"; then
	pass "a signed query replayed after a later one of its key: NOTAUTH (BADTIME), logged as a replay"
else
	fail "replay: first '$first', fresh $(grep -o 'status: [A-Z]*' "$E2E_TMP/fresh.out"), again '$again'"
fi
out=$(dig @127.0.0.1 -p "$XP" -y "hmac-sha512:xfr.key:$S1" example.com AXFR +time=3 2>&1)
[[ $out == *"Transfer failed"* && $out == *BADKEY* ]] && pass "the key's name with another algorithm: BADKEY" ||
	fail "other algorithm: $(echo "$out" | tail -3 | tr '\n' ' ')"
out=$(dig @127.0.0.1 -p "$XP" example.com AXFR +time=3 2>&1)
[[ $out == *"Transfer failed"* ]] && grep -q 'Transfer failed' <<<"$out" && pass "unsigned AXFR with key-only ACLs: refused" ||
	fail "unsigned AXFR: $(echo "$out" | tail -3 | tr '\n' ' ')"
out=$(dig @127.0.0.1 -p "$XP" -y "hmac-sha512:other:$S2" example.com AXFR +time=3 2>&1)
[[ $out == *"Transfer failed"* && $out == *"hmac-sha512. "*" 64 "*NOERROR* ]] &&
	pass "a valid key not allowed from this address: REFUSED (signed)" ||
	fail "key from the wrong address: $(echo "$out" | tail -3 | tr '\n' ' ')"
out=$(dig -b 127.0.0.2 @127.0.0.1 -p "$XP" -y "hmac-sha512:other:$S2" example.com AXFR +time=3 2>&1)
[[ $out == *"XFR size: 181 records"* && $out != *"could not be validated"* ]] &&
	pass "the same key from 127.0.0.2 (ADDR@key:NAME): transferred, hmac-sha512" ||
	fail "ADDR@key: $(echo "$out" | tail -3 | tr '\n' ' ')"
out=$(dig @127.0.0.1 -p "$XP" -y "hmac-sha256:xfr.key:$S1" www.example.com A +time=3 2>&1)
[[ $out == *"status: NOERROR"* && $out == *"TSIG PSEUDOSECTION"* && $out == *"192.0.2.80"* &&
	$out != *"could not be validated"* ]] && pass "a signed query (UDP) is answered signed" ||
	fail "signed query: $(echo "$out" | grep -E 'status|TSIG|WARN' | tr '\n' ' ')"
grep -q 'transfer of bench.test. (serial [0-9]*) to 127.0.0.1:[0-9]*, TSIG key xfr.key.' "$XERR" &&
	pass "the log names the key of a signed transfer" || fail "no TSIG key in the transfer log line"

# Knot as a secondary of antidote (a second primary, on a copy of the zone
# it can change, that NOTIFYs Knot)
if command -v knotd >/dev/null; then
	KP=$(pick_port)
	KD=$E2E_TMP/knot
	cp "$Z1" "$E2E_TMP/ex.zone"
	kill "$XPID"
	wait "$XPID" 2>/dev/null
	Z1=$E2E_TMP/ex.zone
	xfr_start --tsig-key "hmac-sha256:xfr.key:$S1" --allow-transfer key:xfr.key --notify "127.0.0.1:$KP@key:xfr.key" ||
		{ fail "serve did not start"; e2e_finish; }
	mkdir -p "$KD/db" "$KD/zones"
	cat >"$KD/knot.conf" <<K
server:
  rundir: "$KD"
  listen: 127.0.0.1@$KP
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
database:
  storage: "$KD/db"
log:
  - target: "$KD/knot.log"
    any: info
key:
  - id: xfr.key
    algorithm: hmac-sha256
    secret: $S1
remote:
  - id: primary
    address: 127.0.0.1@$XP
    key: xfr.key
acl:
  - id: notify_from_primary
    address: 127.0.0.1
    key: xfr.key
    action: notify
template:
  - id: default
    storage: "$KD/zones"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: none
    semantic-checks: off
    acl: notify_from_primary
zone:
  - domain: example.com
    master: primary
  - domain: nsec3.test
    master: primary
K
	knotd -c "$KD/knot.conf" >/dev/null 2>&1 </dev/null &
	E2E_PIDS+=($!)
	ok=0
	for _ in $(seq 50); do
		dig @127.0.0.1 -p "$KP" nsec3.test SOA +short +time=1 +tries=1 2>/dev/null | has . &&
			dig @127.0.0.1 -p "$KP" example.com SOA +short +time=1 +tries=1 2>/dev/null | has . && { ok=1; break; }
		sleep 0.2
	done
	if [ $ok = 1 ]; then
		same=0 total=0
		for q in "www.example.com A" "example.com MX" "example.com NS" "nope.example.com A" \
			"example.com SOA" "nsec3.test SOA" "www.nsec3.test A"; do
			total=$((total + 1))
			# shellcheck disable=SC2086
			a=$(qa "$XP" $q)
			# shellcheck disable=SC2086
			k=$(qa "$KP" $q)
			[ -n "$a" ] && [ "$a" = "$k" ] && same=$((same + 1))
			[ -n "$a" ] && [ "$a" = "$k" ] || echo "# differs for $q: antidote [$a] knot [$k]"
		done
		[ $same = $total ] && pass "Knot as secondary transferred both zones over TSIG and answers as antidote does ($same/$total)" ||
			fail "Knot secondary answers differ ($same/$total)"
		grep -q 'transfer of example.com. (serial .*TSIG key xfr.key' "$XERR" && pass "primary logged the signed transfer to Knot" ||
			fail "no transfer line in the primary's log"
		# a reload with a new serial: NOTIFY, and Knot transfers at once
		# (its own refresh timer is 7200 s); first let the NOTIFYs sent at
		# start finish (answered or given up after 5 tries), so their log
		# lines come before the reload's
		for _ in $(seq 70); do
			[ "$(grep -c '^antidote: notify .* to ' "$XERR")" -ge 2 ] && break
			sleep 0.1
		done
		sed -i 's/2024010101/2024010102/' "$Z1"
		echo 'notified IN A 192.0.2.123' >>"$Z1"
		kill -HUP "$XPID"
		got=
		for _ in $(seq 50); do
			got=$(dig @127.0.0.1 -p "$KP" notified.example.com A +short +time=1 +tries=1 2>/dev/null)
			[ -n "$got" ] && break
			sleep 0.1
		done
		[ "$got" = 192.0.2.123 ] && pass "after a reload Knot has the new record within 5 s (NOTIFY)" ||
			fail "Knot did not pick up the change: ${got:-nothing}; $(grep -i notify "$XERR" | tail -2 | tr '\n' ' ')"
		grep -q "notify example.com. (serial 2024010102) to 127.0.0.1:$KP: answered NOERROR (TSIG verified)" "$XERR" &&
			pass "the NOTIFY was signed (Knot's acl wants the key) and Knot's signed answer verified" ||
			fail "no verified NOTIFY answer logged: $(grep 'notify example.com' "$XERR" | tail -1)"
		grep -q "notify nsec3.test. (serial 2024030301)" <(sed -n '/reloading/,$p' "$XERR") &&
			fail "NOTIFY sent for a zone whose serial did not change" ||
			pass "no NOTIFY for the zones whose serial did not change"
	else
		fail "Knot did not load the zones from antidote: $(tail -3 "$KD/knot.log" | tr '\n' ' ')"
	fi
else
	pass "skipped Knot secondary (no knotd)"
fi

kill "$XPID"
wait "$XPID" 2>/dev/null
xfr_start || { fail "serve did not start"; e2e_finish; }
out=$(dig @127.0.0.1 -p "$XP" example.com AXFR +time=3 2>&1)
[[ $out == *"Transfer failed"* ]] && pass "without --allow-transfer nothing is transferred" ||
	fail "no --allow-transfer: $(echo "$out" | tail -2 | tr '\n' ' ')"
e2e_finish
