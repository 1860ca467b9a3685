#!/usr/bin/env bash
# defence_cli.sh — the injection defence's options: defaults, errors in the
# user's words (FILE:LINE for lists), the counters at exit, and the
# learned-bogus export written even when nothing was learnt.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resolve_lib.bash"
e2e_init

server_start antidote ANT "defence.com=tests/data/defence/defence.com.zone" ||
	{ fail "antidote serve did not start"; e2e_finish; }
UP=127.0.0.1:$ANT_PORT

out=$("$ANTIDOTE" resolve --help 2>&1)
for o in --defence --bogus-ip --hold-max --log-verdicts --learned-bogus --probe-name --probe-interval; do
	grep -q -- "$o" <<<"$out" || fail "--help lacks $o"
done
pass "--help lists the defence options"

# errors
out=$("$ANTIDOTE" resolve --listen 127.0.0.1:1 --upstream "$UP" --defence maybe 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "defence: 'maybe' is not on or off" <<<"$out" && pass "--defence maybe refused" ||
	fail "--defence maybe: rc $rc: $out"
printf '1.2.3.4\n10.10.34.0/24\nbogus-nxdomain=5.6.7.8\nnot an address\n' >"$E2E_TMP/bad.txt"
out=$("$ANTIDOTE" resolve --listen 127.0.0.1:1 --upstream "$UP" --bogus-ip "$E2E_TMP/bad.txt" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "bad.txt:4: 'not an address' is not an address" <<<"$out" &&
	pass "bad --bogus-ip line reported as FILE:LINE" || fail "bad list: rc $rc: $out"
out=$("$ANTIDOTE" resolve --listen 127.0.0.1:1 --upstream "$UP" --bogus-ip /nonexistent/list 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "/nonexistent/list" <<<"$out" && pass "missing --bogus-ip file named" ||
	fail "missing list: rc $rc: $out"
out=$("$ANTIDOTE" resolve --listen 127.0.0.1:1 --upstream "$UP" --hold-max 0 2>&1); rc=$?
[ $rc -eq 2 ] && pass "--hold-max 0 refused" || fail "--hold-max 0: rc $rc: $out"
out=$("$ANTIDOTE" resolve --listen 127.0.0.1:1 --upstream "$UP" --probe-name 'a..b' 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "probe-name" <<<"$out" && pass "bad --probe-name refused" || fail "--probe-name: rc $rc: $out"

# config file spelling, list loaded, default on, counters and export at exit
printf 'upstream %s\nbogus-ip %s\nhold-max 250\nlearned-bogus %s\nprobe-interval 0\n' "$UP" \
	"$E2E_TMP/good.conf" "$E2E_TMP/learned.conf" >"$E2E_TMP/resolve.conf"
printf 'bogus-nxdomain=192.0.2.99\n' >"$E2E_TMP/good.conf"
resolver_start R --config "$E2E_TMP/resolve.conf" --threads 1 || { fail "resolver did not start"; e2e_finish; }
grep -q "injection defence on (hold at most 250 ms, bogus list loaded)" "$R_LOG" && pass "defence on by default" ||
	fail "start-up line: $(grep -i defence "$R_LOG")"
a=$(rdig R +short www.defence.com A)
[ "$a" = 192.0.2.1 ] && pass "genuine answer served ($a)" || fail "www: '$a'"
# the listed address is dropped whatever the defence thinks: nothing else comes, SERVFAIL
s=$(rdig R x.w.defence.com A | grep -o 'status: [A-Z]*')
[ "$s" = "status: SERVFAIL" ] && pass "answer on the --bogus-ip list never served ($s)" || fail "listed: $s"
kill "$R_PID"
wait "$R_PID" 2>/dev/null
line=$(grep '^resolve: defence upstream' "$R_LOG" | tail -n 1)
echo "# $line"
grep -q 'listed=[1-9]' <<<"$line" && grep -q 'accepted=[1-9]' <<<"$line" && pass "counters at exit" ||
	fail "counters: $line"
[ -f "$E2E_TMP/learned.conf" ] && pass "--learned-bogus written at exit ($(wc -l <"$E2E_TMP/learned.conf") lines)" ||
	fail "--learned-bogus not written"
e2e_finish
