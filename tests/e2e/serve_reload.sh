#!/usr/bin/env bash
# e2e: antidote serve reloads on SIGHUP without dropping queries, keeps the
# old zones when a new one is broken, refuses a broken zone at start with
# file:line, and stops cleanly on SIGTERM.
set -u
ANTIDOTE=${ANTIDOTE:-build/antidote}
dir=$(mktemp -d /tmp/antidote-reload.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

zone() { # serial address
  cat >"$dir/z.zone" <<Z
\$ORIGIN reload.test.
\$TTL 60
@ SOA ns h $1 3600 600 86400 60
@ NS ns
ns A 192.0.2.53
www A $2
Z
}
ask() { dig +short +time=1 +tries=2 @127.0.0.1 -p "$port" "$@" 2>/dev/null; }

zone 1 192.0.2.1
for try in 1 2 3 4 5; do
  port=$((10000 + RANDOM % 22000)) # below the ephemeral range (lib.sh)
  "$ANTIDOTE" serve --listen 127.0.0.1:$port --zone "$dir/z.zone" --threads 2 2>"$dir/log" &
  pid=$!
  for i in $(seq 50); do [ -n "$(ask www.reload.test A)" ] && break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && break
  wait "$pid"; pid=
done
[ "$(ask www.reload.test A)" = 192.0.2.1 ] && pass "serves the first zone" || fail "first zone not served"

# Queries keep being answered while the zone is reloaded again and again.
( n=0; bad=0
  while [ $n -lt 300 ]; do
    r=$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" www.reload.test A 2>/dev/null)
    case "$r" in 192.0.2.1|192.0.2.2) ;; *) bad=$((bad + 1));; esac
    n=$((n + 1))
  done
  echo "$bad" >"$dir/bad" ) &
loader=$!
for s in 2 3 4 5 6; do
  zone $s 192.0.2.2; kill -HUP "$pid"; sleep 0.2
done
wait $loader
[ "$(cat "$dir/bad")" = 0 ] && pass "300 queries answered during 5 reloads" || fail "$(cat "$dir/bad") of 300 queries unanswered during reloads"
for i in $(seq 30); do [ "$(ask www.reload.test A)" = 192.0.2.2 ] && break; sleep 0.1; done
[ "$(ask www.reload.test A)" = 192.0.2.2 ] && pass "SIGHUP picks up the new zone" || fail "new zone not served after SIGHUP"
[ "$(ask reload.test SOA | awk '{print $3}')" = 6 ] && pass "serial follows the reloads" || fail "serial after reloads: $(ask reload.test SOA)"

# A broken zone at reload: the old one keeps serving, the log says where.
printf '$ORIGIN reload.test.\n@ 60 SOA ns h 7 1 1 1 1\nwww 60 A 192.0.2.300\n' >"$dir/z.zone"
kill -HUP "$pid"; sleep 0.5
[ "$(ask www.reload.test A)" = 192.0.2.2 ] && pass "broken zone at reload: old zone still served" || fail "broken reload changed the answers"
grep -q "z.zone:3:" "$dir/log" && pass "reload error names file:line" || { fail "no file:line in the log"; cat "$dir/log"; }
kill -0 "$pid" 2>/dev/null && pass "server alive after a failed reload" || fail "server died on a failed reload"

# SIGTERM: clean exit, promptly.
kill -TERM "$pid"
for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then fail "still running 3 s after SIGTERM"; else
  wait "$pid"; rc=$?; pid=
  [ $rc = 0 ] && pass "SIGTERM: exit status 0" || fail "SIGTERM: exit status $rc"
fi

# A broken zone at start: exit 1, file:line on stderr, nothing half-served.
"$ANTIDOTE" serve --listen 127.0.0.1:$port --zone "$dir/z.zone" 2>"$dir/err"; rc=$?
[ $rc = 1 ] && pass "broken zone at start: exit status 1" || fail "broken zone at start: exit status $rc"
grep -q "z.zone:3: " "$dir/err" && pass "start error names file:line: $(head -1 "$dir/err")" || { fail "start error lacks file:line"; cat "$dir/err"; }
[ $fails = 0 ]
