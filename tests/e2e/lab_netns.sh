#!/usr/bin/env bash
# lab_netns — `antidote lab jan21 --netns` (root): the same scenario and
# assertions as lab_relay.sh, with resolvers, users and the domestic server
# in a client namespace, the injector sniffing and forging at the border
# namespace, the servers abroad in a server namespace behind a delay line.
# Also: the namespaces exist during the run and are gone after it and after
# Ctrl-C (with every child process and the temporary directory).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab_check.bash"
e2e_init

if [ "$(id -u)" -ne 0 ]; then
	echo "# not root: network namespaces need root; skipping"
	pass "skipped (not root)"
	e2e_finish
fi
command -v ip >/dev/null || { pass "skipped (no ip from iproute2)"; e2e_finish; }
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

JSON=$E2E_TMP/lab.json SVG=$E2E_TMP/lab.svg
start=$(date +%s%N)
timeout 90 "$ANTIDOTE" lab jan21 --netns --data "$DATA" --duration 15 --fault-start 4 --fault-length 6 \
	--forged-ttl 3 --rate 300 --json "$JSON" --svg "$SVG" >"$E2E_TMP/out" 2>"$E2E_TMP/errout" &
lab=$!
E2E_PIDS+=($lab)
seen=0 owner=""
for _ in $(seq 100); do
	owner=$(grep -o 'antidote-[0-9]*-client' "$E2E_TMP/errout" 2>/dev/null | head -1 | tr -dc 0-9)
	[ -n "$owner" ] && seen=$(ip netns list | grep -c "^antidote-$owner-")
	[ "$seen" -eq 3 ] && break
	sleep 0.1
done
wait $lab
rc=$?
[ "$seen" -eq 3 ] && pass "3 namespaces antidote-$owner-* during the run" || fail "namespaces during the run: $seen"
grep -q "border injector on ad${owner}bc" "$E2E_TMP/errout" && pass "injector on the border veth ad${owner}bc" ||
	fail "no border injector line"
left=$(ip netns list | grep -c "^antidote-${owner:-none}-")
[ "$left" -eq 0 ] && pass "namespaces removed at exit" || fail "$left namespaces left after the run"
lab_check_report

# Ctrl-C: every child stops, the temp dir goes
"$ANTIDOTE" lab jan21 --netns --data "$DATA" --duration 30 --sites 300 >/dev/null 2>"$E2E_TMP/int.err" &
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
left=$(ip netns list | grep -c "^antidote-$lab-")
[ "$left" -eq 0 ] && pass "SIGINT: namespaces removed" || fail "SIGINT: $left namespaces left"
e2e_finish
