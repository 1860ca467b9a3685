#!/usr/bin/env bash
# resolve_reload.sh — antidote resolve on SIGHUP: a --route file edited to
# send a.test to another upstream takes effect (TTL-1 records), unrelated
# cached names stay cached, a broken file keeps the old configuration and
# logs file:line, a route to a new upstream adds it to the running resolver
# (no restart), fixed options
# are reported, --bogus-ip lists are reloaded both ways, the --log-verdicts
# file is reopened after rotation, and queries sent during 5 reloads are all
# answered. Also: cookie-only queries (RFC 7873 §5.4) get NOERROR with a
# server cookie, and BADCOOKIE for a server cookie that is not ours.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resolve_lib.bash"
e2e_init
T=$E2E_TMP

# two authorities: www.a.test is 192.0.2.1 at U1, 192.0.2.2 at U2 (TTL 1);
# www.b.test is the same at both, with TTL 3600
zone() { # file address
	cat >"$1" <<Z
\$ORIGIN a.test.
\$TTL 1
@ 3600 IN SOA ns1 h 1 3600 900 604800 1
@ 3600 IN NS ns1
ns1 IN A 192.0.2.53
www IN A $2
Z
}
zone "$T/a1.zone" 192.0.2.1
zone "$T/a2.zone" 192.0.2.2
zone "$T/a3.zone" 192.0.2.3
cat >"$T/b.zone" <<'Z'
$ORIGIN b.test.
$TTL 3600
@ IN SOA ns1 h 1 3600 900 604800 60
@ IN NS ns1
ns1 IN A 192.0.2.53
www IN A 198.51.100.7
Z
server_start antidote U1 "a.test=$T/a1.zone" "b.test=$T/b.zone" || { fail "upstream 1 did not start"; e2e_finish; }
server_start antidote U2 "a.test=$T/a2.zone" "b.test=$T/b.zone" || { fail "upstream 2 did not start"; e2e_finish; }
server_start antidote U3 "a.test=$T/a3.zone" || { fail "upstream 3 did not start"; e2e_finish; }

# everything but --listen comes from a config file, which names a route file
# and a bogus-ip file
echo "server=/a.test/127.0.0.1#$U1_PORT" >"$T/routes.conf"
: >"$T/bogus.txt"
write_conf() { # extra lines
	{
		echo "upstream 127.0.0.1:$U2_PORT"
		echo "route $T/routes.conf"
		echo "bogus-ip $T/bogus.txt"
		echo "log-verdicts $T/verdicts.log"
		echo "stale-window 0"
		echo "attempts 2"
		echo "threads 2"
		for l in "$@"; do echo "$l"; done
	} >"$T/r.conf"
}
write_conf
resolver_start R --config "$T/r.conf" || { fail "resolver did not start"; e2e_finish; }

nreloads=0
# hup: SIGHUP, then wait for the reload's outcome line in the log
hup() {
	local before after i
	before=$(grep -cE 'reload [0-9]+:|reload (failed|refused)' "$R_LOG")
	kill -HUP "$R_PID"
	for ((i = 0; i < 100; i++)); do
		after=$(grep -cE 'reload [0-9]+:|reload (failed|refused)' "$R_LOG")
		[ "$after" -gt "$before" ] && return 0
		sleep 0.05
	done
	return 1
}
www() { rdig R +short www.a.test A; }

a=$(www)
[ "$a" = 192.0.2.1 ] && pass "a.test routed to upstream 1 at start" || fail "start: www.a.test '$a'"
b1=$(rdig R www.b.test A +noall +answer | awk '{ print $2 }')

# 1. the route file now sends a.test to upstream 2
echo "server=/a.test/127.0.0.1#$U2_PORT" >"$T/routes.conf"
hup || fail "no reload line after SIGHUP"
grep -q 'reload 1: routes 1 -> 1 domain rules' "$R_LOG" && pass "reload logged: $(grep -o 'reload 1:.*' "$R_LOG")" ||
	fail "reload summary: $(tail -3 "$R_LOG")"
sleep 1.2 # the TTL-1 answer expires
a=$(www)
[ "$a" = 192.0.2.2 ] && pass "after SIGHUP a.test goes to upstream 2" || fail "after reload: www.a.test '$a'"
b2=$(rdig R www.b.test A +noall +answer | awk '{ print $2 }')
if [ -n "$b1" ] && [ -n "$b2" ] && [ "$b2" -lt 3600 ] && [ "$b2" -le "$b1" ]; then
	pass "cache kept across the reload (www.b.test TTL $b1 -> $b2, not refetched)"
else
	fail "cache not kept: www.b.test TTL $b1 -> $b2"
fi
kill -0 "$R_PID" 2>/dev/null && pass "resolver alive after SIGHUP" || fail "resolver died on SIGHUP"

# 2. a broken route file: old configuration kept, error with file:line
printf 'server=/a.test/127.0.0.1#%s\nserver=/c.test/not-an-address\n' "$U1_PORT" >"$T/routes.conf"
hup || fail "no reload line after SIGHUP (broken file)"
if grep -q "reload failed: .*$T/routes.conf:2: .*keeping the running configuration" "$R_LOG"; then
	pass "broken route file: reload failed with file:line, running configuration kept"
else
	fail "broken file: $(tail -2 "$R_LOG")"
fi
sleep 1.2
a=$(www)
[ "$a" = 192.0.2.2 ] && pass "old routes still in force after a failed reload" || fail "after failed reload: '$a'"
# a broken config file line: same
echo "server=/a.test/127.0.0.1#$U2_PORT" >"$T/routes.conf"
write_conf "cache-size lots"
hup
grep -q "reload failed: $T/r.conf:8: cache-size" "$R_LOG" && pass "broken config file: error at r.conf:8" ||
	fail "config file error: $(tail -1 "$R_LOG")"
# a route to a new upstream: every worker adds it, no restart
write_conf
echo "server=/a.test/127.0.0.1#$U3_PORT" >"$T/routes.conf"
hup || fail "no reload line (new upstream)"
if grep -q "upstream 2: 127.0.0.1:$U3_PORT (added by reload)" "$R_LOG" && grep -q 'reload [0-9]*: routes' "$R_LOG" &&
	! grep -q 'reload refused' "$R_LOG"; then
	pass "a new upstream is added by the reload ($(grep -o 'upstream 2: .*' "$R_LOG" | head -1))"
else
	fail "new upstream: $(tail -2 "$R_LOG")"
fi
sleep 1.2
ok=0
for _ in 1 2 3 4 5 6; do [ "$(www)" = 192.0.2.3 ] && ok=$((ok + 1)); done # both workers
[ $ok -eq 6 ] && pass "a.test answered by the added upstream (6/6)" || fail "added upstream answered $ok/6"
resolver_stats R
q3=$(stat_of R "upstream 127.0.0.1:$U3_PORT:" queries)
[ "${q3:-0}" -ge 1 ] && pass "stats list the added upstream ($q3 queries)" || fail "no stats for the added upstream"
# and back: the added one stays running, unused
echo "server=/a.test/127.0.0.1#$U2_PORT" >"$T/routes.conf"
hup || fail "no reload line (route back)"
sleep 1.2
[ "$(www)" = 192.0.2.2 ] && pass "routed back to upstream 2" || fail "route back: $(www)"
# fixed options are reported and kept, the rest applies
write_conf "threads 3" "max-udp 1400"
hup
grep -q 'reload: threads, max-udp changed; restart needed' "$R_LOG" && pass "fixed options reported: restart needed" ||
	fail "fixed options: $(grep 'restart needed' "$R_LOG" | tail -1)"
udp=$(rdig R probe.invalid ANY +bufsize=4096 | grep -Eo 'udp: [0-9]+')
[ "$udp" = "udp: 1232" ] && pass "max-udp kept as running (1232)" || fail "max-udp now '$udp'"
write_conf

# 3. the bogus-ip list: 192.0.2.2 listed -> upstream 2's answer is dropped
echo 192.0.2.2 >"$T/bogus.txt"
hup
grep -q 'bogus-ip 0 -> 1 entries' "$R_LOG" && pass "bogus-ip list reloaded (0 -> 1)" || fail "bogus reload: $(tail -1 "$R_LOG")"
sleep 1.2
out=$(rdig R www.a.test A +time=5)
if grep -q 'status: SERVFAIL' <<<"$out" && ! grep -q '192.0.2.2' <<<"$out"; then
	pass "a listed address is never served after the reload (SERVFAIL)"
else
	fail "listed address: $(grep -E 'status|IN.A' <<<"$out")"
fi
resolver_stats R
n=$(grep '^resolve: defence:' "$R_LOG" | tail -1 | grep -Eo 'bogus list [0-9]+' | grep -Eo '[0-9]+')
[ "$n" = 1 ] && pass "stats: bogus list 1 entries" || fail "stats bogus list '$n'"
: >"$T/bogus.txt"
hup
sleep 1.2
a=$(www)
[ "$a" = 192.0.2.2 ] && pass "bogus-ip entry removed by reload: served again" || fail "after unlisting: '$a'"

# 4. log rotation: the verdict log is reopened
mv "$T/verdicts.log" "$T/verdicts.log.1"
hup
grep -q 'log-verdicts reopened' "$R_LOG" && pass "log-verdicts reopened" || fail "no reopen: $(tail -1 "$R_LOG")"
rdig R www2.b.test A >/dev/null
sleep 0.3
if [ -s "$T/verdicts.log" ] && grep -q '"name":"www2.b.test."' "$T/verdicts.log" &&
	! grep -q 'www2.b.test' "$T/verdicts.log.1"; then
	pass "verdicts go to the new file after rotation"
else
	fail "verdict log after rotation: $(wc -l "$T/verdicts.log" "$T/verdicts.log.1" 2>&1 | head -2)"
fi

# 5. queries during 5 reloads: every one answered
names=$T/names
for i in $(seq 1 40); do
	echo "www.b.test A"
	echo "www.a.test A"
	echo "n$i.a.test A"
	echo "n$i.b.test AAAA"
done >"$names"
r0=$(grep -c 'reload [0-9]*:' "$R_LOG")
if command -v dnsperf >/dev/null; then
	dnsperf -s 127.0.0.1 -p "$R_PORT" -d "$names" -l 3 -Q 400 -t 3 >"$T/perf.out" 2>&1 &
	perf=$!
	sleep 0.3
	for i in 1 2 3 4 5; do
		hup || break # waits for the reload's log line: signals do not queue
		sleep 0.25
	done
	wait "$perf"
	sent=$(grep -Eo 'Queries sent: +[0-9]+' "$T/perf.out" | grep -Eo '[0-9]+$')
	lost=$(grep -Eo 'Queries lost: +[0-9]+' "$T/perf.out" | grep -Eo '[0-9]+$')
	done_=$(grep -Eo 'Queries completed: +[0-9]+' "$T/perf.out" | grep -Eo '[0-9]+$')
	if [ -n "$sent" ] && [ "$sent" -gt 500 ] && [ "$lost" = 0 ]; then
		pass "dnsperf during 5 reloads: $sent sent, $done_ completed, 0 lost"
	else
		fail "dnsperf during reloads: sent=$sent completed=$done_ lost=$lost"
		cat "$T/perf.out"
	fi
else
	ok=0 total=0
	for i in $(seq 1 5); do
		hup &
		for j in 1 2 3 4 5 6 7 8; do
			total=$((total + 1))
			rdig R "q$i-$j.b.test" A | has -E 'status: (NOERROR|NXDOMAIN)' && ok=$((ok + 1))
		done
		wait
	done
	[ "$ok" = "$total" ] && pass "$total queries during 5 reloads all answered" || fail "$ok/$total answered"
fi
for ((i = 0; i < 200; i++)); do
	[ $(($(grep -c 'reload [0-9]*:' "$R_LOG") - r0)) -ge 5 ] && break
	sleep 0.05
done
r1=$(grep -c 'reload [0-9]*:' "$R_LOG")
[ $((r1 - r0)) -eq 5 ] && pass "5 reloads done under load" || fail "$((r1 - r0)) reloads logged"
a=$(www)
[ "$a" = 192.0.2.2 ] && pass "answers right after the reloads" || fail "after reloads: '$a'"

# 6. cookie-only queries (RFC 7873 §5.4)
out=$(rdig R +cookie +header-only)
ck=$(grep -Eo 'COOKIE: [0-9a-f]+' <<<"$out" | awk '{ print $2 }')
if grep -q 'status: NOERROR' <<<"$out" && grep -q 'QUERY: 0, ANSWER: 0' <<<"$out" && [ "${#ck}" = 48 ] &&
	grep -q 'COOKIE: .* (good)' <<<"$out"; then
	pass "cookie-only query: NOERROR with a 16-octet server cookie"
else
	fail "cookie-only: $(grep -E 'status|COOKIE' <<<"$out")"
fi
out=$(rdig R +cookie="$ck" +header-only)
grep -q 'status: NOERROR' <<<"$out" && pass "cookie-only with our server cookie: NOERROR" ||
	fail "valid server cookie: $(grep -E 'status|COOKIE' <<<"$out")"
out=$(rdig R +cookie="${ck:0:16}0100000000000000aaaaaaaaaaaaaaaa" +header-only +nobadcookie)
if grep -q 'status: BADCOOKIE' <<<"$out" && grep -Eq 'COOKIE: [0-9a-f]{48}' <<<"$out"; then
	pass "cookie-only with a forged server cookie: BADCOOKIE and a fresh cookie"
else
	fail "forged server cookie: $(grep -E 'status|COOKIE' <<<"$out")"
fi
# ordinary answers carry it too: a cache miss (deferred) and a hit
for what in miss hit; do
	out=$(rdig R +cookie cookie.b.test A)
	if grep -q 'status: NXDOMAIN' <<<"$out" && grep -Eq 'COOKIE: [0-9a-f]{48} \(good\)' <<<"$out"; then
		pass "server cookie on an answer from the $what path"
	else
		fail "cookie on the $what path: $(grep -E 'status|COOKIE' <<<"$out")"
	fi
done
if command -v kdig >/dev/null; then
	out=$(kdig @127.0.0.1 -p "$R_PORT" +cookie +retry=0 +timeout=2 probe.invalid ANY 2>&1)
	grep -iEq 'COOKIE: [0-9a-f]{48}' <<<"$out" && pass "kdig: a local answer carries the server cookie" ||
		fail "kdig cookie: $(grep -iE 'status|cookie' <<<"$out")"
fi

kill -0 "$R_PID" 2>/dev/null && pass "resolver still running after $(grep -c 'SIGHUP' "$R_LOG") SIGHUPs" ||
	fail "resolver died"
# a clean stop (the SAN build reports leaks of old configurations here)
kill "$R_PID"
wait "$R_PID"
rc=$?
[ "$rc" = 0 ] && pass "clean exit after the reloads" || { fail "exit status $rc"; tail -20 "$R_LOG"; }
R_PID=
e2e_finish
