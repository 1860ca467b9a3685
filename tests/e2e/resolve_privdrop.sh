#!/usr/bin/env bash
# resolve_privdrop — `antidote resolve --user`: as root it binds, opens its
# files, then every thread runs as nobody (no capabilities, no_new_privs);
# it resolves through its upstream, and a SIGHUP reload re-reads a route
# file readable by nobody. Not root: switching user is refused.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init
. "$(dirname "$0")/resolve_lib.bash"

if [ "$(id -u)" -ne 0 ]; then
	out=$("$ANTIDOTE" resolve --listen "127.0.0.1:$(pick_port)" --upstream 127.0.0.1:9 --user root 2>&1)
	rc=$?
	[ $rc -ne 0 ] && [[ $out == *"only root can switch user"* ]] && pass "not root: --user root refused ($rc)" ||
		fail "not root: --user root gave $rc: $out"
	e2e_finish
fi
NOBODY=$(id -u nobody 2>/dev/null) || { pass "skipped (no user nobody)"; e2e_finish; }
server_start antidote UP "$RES_ZONE" || { fail "upstream did not start"; e2e_finish; }
chmod 755 "$E2E_TMP"
echo "# no routes yet" >"$E2E_TMP/routes"
chmod 644 "$E2E_TMP/routes"
resolver_start R --upstream "127.0.0.1:$UP_PORT" --route "$E2E_TMP/routes" --user nobody --threads 2 ||
	{ fail "resolver did not start"; e2e_finish; }
grep -q "running as nobody (uid $NOBODY)" "$R_LOG" && pass "logs the user it runs as" ||
	fail "no 'running as nobody': $(tail -3 "$R_LOG")"
bad=0 n=0
for st in /proc/"$R_PID"/task/*/status; do
	n=$((n + 1))
	read -r _ r e s f < <(grep '^Uid:' "$st")
	[ "$r $e $s $f" = "$NOBODY $NOBODY $NOBODY $NOBODY" ] || bad=$((bad + 1))
done
[ "$n" -ge 2 ] && [ "$bad" -eq 0 ] && pass "all $n threads run as uid $NOBODY" || fail "$bad of $n threads not uid $NOBODY"
grep -q '^CapEff:[[:space:]]*0000000000000000' /proc/"$R_PID"/status &&
	grep -q '^NoNewPrivs:[[:space:]]*1' /proc/"$R_PID"/status && pass "no capabilities, no_new_privs" ||
	fail "privileges left: $(grep -E 'Cap|NoNew' /proc/"$R_PID"/status | tr '\n' ' ')"
a=$(rdig R +short www.resolve.test A)
[ -n "$a" ] && pass "resolves as nobody (www.resolve.test -> $a)" || fail "no answer as nobody"
echo "server=/resolve.test/" >"$E2E_TMP/routes" # local: never forwarded
kill -HUP "$R_PID"
for _ in $(seq 30); do grep -q 'reload 1:' "$R_LOG" && break; sleep 0.1; done
grep -q 'reload 1:' "$R_LOG" && pass "SIGHUP reload as nobody re-reads the route file" ||
	fail "no reload line: $(tail -3 "$R_LOG")"
e2e_finish
