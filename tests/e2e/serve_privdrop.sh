#!/usr/bin/env bash
# serve_privdrop — `antidote serve --user`: as root it binds a privileged
# port, then every thread runs as the unprivileged user (no way back), it
# answers, and SIGHUP reloads zones readable by that user. An unknown user
# is refused at start with a clear message; without root, switching to
# another user is refused.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init

if [ "$(id -u)" -ne 0 ]; then
	out=$("$ANTIDOTE" serve --listen 127.0.0.1:$(pick_port) --zone "$E2E_ZONES/example.com.zone" --user root 2>&1)
	rc=$?
	[ $rc -ne 0 ] && [[ $out == *"only root can switch user"* ]] && pass "not root: --user root refused ($rc)" ||
		fail "not root: --user root gave $rc: $out"
	e2e_finish
fi
NOBODY=$(id -u nobody 2>/dev/null) || { pass "skipped (no user nobody)"; e2e_finish; }

chmod 755 "$E2E_TMP"
zone() { # SERIAL ADDRESS
	cat >"$E2E_TMP/p.zone" <<Z
\$ORIGIN priv.test.
\$TTL 60
@ SOA ns h $1 3600 600 86400 60
@ NS ns
ns A 192.0.2.53
www A $2
Z
	chmod 644 "$E2E_TMP/p.zone"
}
zone 1 192.0.2.1

# a privileged port (< 1024) that is free
PORT=
for p in $(shuf -i 600-1000 -n 40); do
	port_free "$p" && { PORT=$p; break; }
done
[ -n "$PORT" ] || { fail "no free port below 1024"; e2e_finish; }
"$ANTIDOTE" serve --listen "127.0.0.1:$PORT" --zone "$E2E_TMP/p.zone" --threads 2 --user nobody \
	>"$E2E_TMP/out" 2>"$E2E_TMP/err" </dev/null &
PID=$!
E2E_PIDS+=("$PID")
ask() { dig +short +time=1 +tries=2 @127.0.0.1 -p "$PORT" www.priv.test A 2>/dev/null; }
for _ in $(seq 50); do [ -n "$(ask)" ] && break; sleep 0.1; done
[ "$(ask)" = 192.0.2.1 ] && pass "answers on privileged port $PORT after dropping to nobody" ||
	fail "no answer on port $PORT: $(cat "$E2E_TMP/err")"
grep -q "running as nobody (uid $NOBODY)" "$E2E_TMP/err" && pass "logs the user it runs as" ||
	fail "no 'running as nobody' line: $(cat "$E2E_TMP/err")"
bad=0 n=0
for st in /proc/"$PID"/task/*/status; do
	n=$((n + 1))
	read -r _ r e s f < <(grep '^Uid:' "$st")
	[ "$r $e $s $f" = "$NOBODY $NOBODY $NOBODY $NOBODY" ] || bad=$((bad + 1))
done
[ "$n" -ge 2 ] && [ "$bad" -eq 0 ] && pass "all $n threads run as uid $NOBODY (real, effective, saved, fs)" ||
	fail "$bad of $n threads not uid $NOBODY"
grep -q '^NoNewPrivs:[[:space:]]*1' /proc/"$PID"/status && pass "no_new_privs set" || fail "no_new_privs not set"
grep -q '^CapEff:[[:space:]]*0000000000000000' /proc/"$PID"/status && pass "no effective capabilities" ||
	fail "capabilities left: $(grep Cap /proc/"$PID"/status | tr '\n' ' ')"

zone 2 192.0.2.2
kill -HUP "$PID"
for _ in $(seq 30); do [ "$(ask)" = 192.0.2.2 ] && break; sleep 0.1; done
[ "$(ask)" = 192.0.2.2 ] && pass "SIGHUP reload as nobody picks up the new zone" || fail "reload: $(ask)"
chmod 600 "$E2E_TMP/p.zone"
zone 3 192.0.2.3
chmod 600 "$E2E_TMP/p.zone"
kill -HUP "$PID"
sleep 0.5
[ "$(ask)" = 192.0.2.2 ] && grep -q -i 'permission denied' "$E2E_TMP/err" &&
	pass "an unreadable zone at reload keeps the old one and says why" ||
	fail "unreadable zone at reload: answer $(ask); $(tail -2 "$E2E_TMP/err")"

out=$("$ANTIDOTE" serve --listen "127.0.0.1:$(pick_port)" --zone "$E2E_TMP/p.zone" --user no-such-user-x 2>&1)
rc=$?
[ $rc -eq 2 ] && [[ $out == *"no such user"* ]] && pass "unknown user refused at start (exit 2)" ||
	fail "unknown user: exit $rc: $out"
e2e_finish
