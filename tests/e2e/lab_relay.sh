#!/usr/bin/env bash
# lab_relay — `antidote lab jan21` in relay mode, short: the undefended
# resolvers serve forged answers for most queries during the fault, none
# for names off the blocklist before it, keep them in cache right after it
# and drop them once the forged TTL ran out; the report, the JSON and the
# SVG come out; the injector's log explains every forged answer; Ctrl-C
# stops every child process and removes the temporary directory.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab_check.bash"
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
"$ANTIDOTE" lab jan21 --tune gfw4.df=on >/dev/null 2>"$E2E_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "no injector 'gfw4'" "$E2E_TMP/err" && pass "lab --tune for a missing injector: exit 2 before any set-up" ||
	fail "lab --tune gfw4: rc $rc $(cat "$E2E_TMP/err")"
"$ANTIDOTE" lab jan21 --data "$E2E_TMP/none" >/dev/null 2>"$E2E_TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'data directory' "$E2E_TMP/err" && pass "missing --data: clear error" \
	|| fail "missing --data: rc $rc, $(cat "$E2E_TMP/err")"

JSON=$E2E_TMP/lab.json SVG=$E2E_TMP/lab.svg
start=$(date +%s%N)
timeout 90 "$ANTIDOTE" lab jan21 --data "$DATA" --duration 15 --fault-start 4 --fault-length 6 --forged-ttl 3 \
	--rate 300 --json "$JSON" --svg "$SVG" >"$E2E_TMP/out" 2>"$E2E_TMP/errout"
rc=$?
lab_check_report

# Ctrl-C: every child stops, the temp dir goes
"$ANTIDOTE" lab jan21 --data "$DATA" --duration 30 --sites 300 --tune gfw3.ttl=100 >/dev/null 2>"$E2E_TMP/int.err" &
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
tuned=0
for f in $(grep -l -a -- 'gfw3.ttl=100' /proc/[0-9]*/cmdline 2>/dev/null); do
	tr '\0' ' ' <"$f" 2>/dev/null | has ' inject .*--tune gfw3.ttl=100' && tuned=$((tuned + 1))
done
[ "$tuned" -eq 1 ] && pass "lab --tune reaches the injector's command line" || fail "lab --tune: $tuned injectors with it"
kill -INT $lab
wait $lab; rc=$?
[ $rc -eq 130 ] && pass "SIGINT: exit 130" || fail "SIGINT: exit $rc"
sleep 0.3
left=$(grep -l -a -- "$pat" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)
[ -n "$dir" ] && [ "$kids" -ge 3 ] && [ "$left" -eq 0 ] && pass "SIGINT: $kids child processes gone" \
	|| fail "SIGINT: dir '$dir', $kids children before, $left left"
[ -n "$dir" ] && [ ! -e "$dir" ] && pass "SIGINT: $dir removed" || fail "SIGINT: $dir still there"
e2e_finish
