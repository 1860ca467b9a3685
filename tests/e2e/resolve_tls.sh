#!/usr/bin/env bash
# resolve_tls.sh — antidote resolve with a DNS over TLS upstream (RFC 7858):
# Unbound serves DoT on loopback with a certificate from a throwaway CA and
# answers by itself (local-data); the resolver must answer through it,
# verify the certificate (name, IP address, CA), fail fast and loudly when
# it does not verify, accept anything with --tls-insecure, pipeline 500
# concurrent questions over one connection, survive the upstream
# restarting, resume its session after the idle close, and read the same
# settings from a --config file and --server routes, and a SIGHUP adding a
# DoT upstream to a resolver that started with none.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resolve_lib.bash"
e2e_init

for t in unbound openssl; do
	command -v "$t" >/dev/null || { echo "# $t missing: skipped"; pass "skipped ($t not installed)"; e2e_finish; }
done

# ---- a throwaway CA, a server certificate for dot.test and 127.0.0.1, and
# an unrelated CA ----
D=$E2E_TMP
ossl() { openssl "$@" >>"$D/openssl.log" 2>&1 || { fail "openssl $1"; cat "$D/openssl.log" >&2; e2e_finish; }; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/ca.key" -out "$D/ca.pem" \
	-days 2 -subj /CN=antidote-e2e-CA
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/other.key" -out "$D/other.pem" \
	-days 2 -subj /CN=antidote-e2e-other-CA
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/srv.key" -out "$D/srv.csr" \
	-subj /CN=dot.test
printf 'subjectAltName=DNS:dot.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$D/ext"
ossl x509 -req -in "$D/srv.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial -out "$D/srv.pem" \
	-days 2 -extfile "$D/ext"

# ---- Unbound as a DoT server that answers by itself ----
UB_PID=
unbound_conf() {
	cat <<EOF
server:
  interface: 127.0.0.1@$1
  tls-port: $1
  tls-service-key: "$D/srv.key"
  tls-service-pem: "$D/srv.pem"
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$D"
  pidfile: "$D/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  num-threads: 1
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  incoming-num-tcp: 64
  local-zone: "." static
  local-zone: "dot.test." static
  local-data: "dot.test. 300 IN SOA ns.dot.test. host.dot.test. 1 3600 600 86400 300"
  local-data: "www.dot.test. 300 IN A 192.0.2.1"
  local-zone: "many.test." redirect
  local-data: "many.test. 300 IN A 192.0.2.7"
remote-control:
  control-enable: no
EOF
}
# unbound_up PORT: starts Unbound on PORT; 0 once it answers (plain UDP on
# the same port shows it is up)
unbound_up() {
	local port=$1 i
	unbound_conf "$port" >"$D/unbound.conf"
	unbound -d -c "$D/unbound.conf" >>"$D/unbound.log" 2>&1 </dev/null &
	UB_PID=$!
	E2E_PIDS+=("$UB_PID")
	for ((i = 0; i < 50; i++)); do
		kill -0 "$UB_PID" 2>/dev/null || return 1
		dig @127.0.0.1 -p "$port" www.dot.test A +short +tries=1 +time=1 2>/dev/null | has 192.0.2.1 && return 0
		sleep 0.1
	done
	return 1
}
unbound_down() {
	kill "$UB_PID" 2>/dev/null
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$UB_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$UB_PID" 2>/dev/null
}
UB_PORT=
for try in 1 2 3 4 5; do
	UB_PORT=$(pick_port) || break
	unbound_up "$UB_PORT" && break
	unbound_down
	UB_PORT=
done
[ -n "$UB_PORT" ] || { fail "unbound did not start"; tail -5 "$D/unbound.log" >&2; e2e_finish; }
echo "# unbound DoT on 127.0.0.1:$UB_PORT"
# kdig speaks DoT itself: check the test server before blaming the resolver
if command -v kdig >/dev/null; then
	a=$(kdig @127.0.0.1 -p "$UB_PORT" +tls-ca="$D/ca.pem" +tls-hostname=dot.test www.dot.test A +short 2>&1)
	[ "$a" = 192.0.2.1 ] && pass "unbound serves DoT with the test certificate (kdig)" ||
		fail "unbound DoT check with kdig: '$a'"
fi
UP="tls://127.0.0.1:$UB_PORT"

# ms LABEL DIGARGS...: prints "STATUS MS" for one query
timed() {
	local label=$1; shift
	local t0 t1 st
	t0=$(date +%s%N)
	st=$(rdig "$label" "$@" | grep -Eo 'status: [A-Z]+' | cut -d' ' -f2)
	t1=$(date +%s%N)
	echo "${st:-none} $(((t1 - t0) / 1000000))"
}

# ---- 1. verified by name ----
resolver_start R --threads 1 --verbose --upstream "$UP#dot.test" --tls-ca "$D/ca.pem" ||
	{ fail "resolver did not start"; e2e_finish; }
a=$(rdig R www.dot.test A +short)
[ "$a" = 192.0.2.1 ] && pass "answer over TLS (verified as dot.test)" || fail "answer over TLS: '$a'"
grep -q "upstream $UP#dot.test: DNS over TLS, certificate must name dot.test" "$R_LOG" &&
	pass "startup says the upstream is DoT and what is verified" || fail "no DoT startup line"
s=$(rdig R nope.dot.test A | grep -Eo 'status: [A-Z]+')
[ "$s" = "status: NXDOMAIN" ] && pass "NXDOMAIN over TLS" || fail "NXDOMAIN over TLS: '$s'"
a=$(rdig R www.dot.test A +short +tcp)
[ "$a" = 192.0.2.1 ] && pass "client over TCP, upstream over TLS" || fail "client TCP: '$a'"

# ---- 2. 500 concurrent questions over one connection ----
for i in $(seq 1 500); do echo "q$i.many.test A"; done >"$D/names"
rdig R warm.many.test A +short >/dev/null # the connection is open now
c0=$(grep -c 'TLS connection established' "$R_LOG")
if command -v dnsperf >/dev/null; then
	out=$(dnsperf -s 127.0.0.1 -p "$R_PORT" -d "$D/names" -q 500 -n 1 -t 5 2>&1)
	done_n=$(grep -Eo 'Queries completed: +[0-9]+' <<<"$out" | grep -Eo '[0-9]+$')
	noerr=$(grep -Eo 'NOERROR [0-9]+' <<<"$out" | grep -Eo '[0-9]+$')
else
	for i in $(seq 1 500); do
		rdig R "q$i.many.test" A +short >"$D/a.$i" &
	done
	wait
	done_n=$(cat "$D"/a.* | grep -c 192.0.2.7)
	noerr=$done_n
fi
[ "${done_n:-0}" = 500 ] && [ "${noerr:-0}" = 500 ] && pass "500 concurrent questions all answered" ||
	fail "500 concurrent: completed=${done_n:-?} noerror=${noerr:-?}"
c1=$(grep -c 'TLS connection established' "$R_LOG")
[ $((c1 - c0)) -eq 0 ] && pass "... over the connection already open (no new handshake)" ||
	fail "new TLS connections during the burst: $((c1 - c0))"
resolver_stats R
q=$(stat_of R "upstream 127.0.0.1:$UB_PORT:" queries)
tcp=$(stat_of R "upstream 127.0.0.1:$UB_PORT:" tcp)
acc=$(stat_of R "upstream 127.0.0.1:$UB_PORT:" accepted)
if [ "${q:-0}" -ge 500 ] && [ "$q" = "$tcp" ] && [ "${acc:-0}" -ge 500 ]; then
	pass "every upstream query went over the stream ($q queries, $tcp tcp/tls, $acc accepted)"
else
	fail "upstream counters: queries=$q tcp=$tcp accepted=$acc"
fi

# ---- 3. the upstream restarts: the resolver reconnects ----
unbound_down
r=$(timed R down.many.test A)
[ "${r% *}" = SERVFAIL ] && [ "${r#* }" -lt 1500 ] && pass "upstream gone: SERVFAIL in ${r#* } ms" ||
	fail "upstream gone: '$r'"
unbound_up "$UB_PORT" || fail "unbound did not restart on $UB_PORT"
ok=0
for i in $(seq 1 30); do
	a=$(rdig R "back$i.many.test" A +short)
	[ "$a" = 192.0.2.7 ] && { ok=1; break; }
	sleep 0.2
done
[ $ok = 1 ] && pass "answers again after the upstream restarted (try $i)" || fail "no answer after restart"
grep -q "TLS connection works again" "$R_LOG" && pass "the recovery is logged" || fail "no recovery log line"
a=$(rdig R www.dot.test A +short)
[ "$a" = 192.0.2.1 ] && pass "cached answers survive" || fail "after restart: '$a'"

# ---- 4. idle close after 10 s, then session resumption ----
rdig R idle0.many.test A +short >/dev/null
sleep 10.6
a=$(rdig R idle1.many.test A +short)
[ "$a" = 192.0.2.7 ] && pass "answer after the idle close" || fail "after idle: '$a'"
sleep 0.2
grep -q 'TLS connection established (.*resumed' "$R_LOG" && pass "TLS session resumed on reconnect" ||
	fail "no resumed session: $(grep 'established' "$R_LOG" | tail -2)"

# ---- 5. no #NAME: the certificate must carry the IP address ----
resolver_start IP --threads 1 --upstream "$UP" --tls-ca "$D/ca.pem" || fail "resolver IP did not start"
a=$(rdig IP www.dot.test A +short)
[ "$a" = 192.0.2.1 ] && pass "verified by IP address (no #NAME)" || fail "IP verification: '$a'"

# ---- 6. verification failures: SERVFAIL at once, a clear log line ----
resolver_start BADN --threads 1 --upstream "$UP#wrong.test" --tls-ca "$D/ca.pem" || fail "resolver BADN did not start"
r=$(timed BADN www.dot.test A)
[ "${r% *}" = SERVFAIL ] && [ "${r#* }" -lt 1500 ] && pass "wrong name: SERVFAIL in ${r#* } ms" ||
	fail "wrong name: '$r'"
grep -q "upstream $UP#wrong.test: TLS handshake: certificate verify failed: hostname mismatch" "$BADN_LOG" &&
	pass "wrong name: logged as a hostname mismatch" || fail "wrong name log: $(grep -i warn "$BADN_LOG")"
resolver_stats BADN
[ "$(stat_of BADN "upstream 127.0.0.1:$UB_PORT:" accepted)" = 0 ] && pass "wrong name: nothing accepted" ||
	fail "wrong name: something was accepted"

resolver_start BADCA --threads 1 --upstream "$UP#dot.test" --tls-ca "$D/other.pem" || fail "resolver BADCA did not start"
r=$(timed BADCA www.dot.test A)
[ "${r% *}" = SERVFAIL ] && [ "${r#* }" -lt 1500 ] && pass "foreign CA: SERVFAIL in ${r#* } ms" ||
	fail "foreign CA: '$r'"
grep -q "certificate verify failed: unable to get local issuer certificate" "$BADCA_LOG" &&
	pass "foreign CA: logged" || fail "foreign CA log: $(grep -i warn "$BADCA_LOG")"

resolver_start SYS --threads 1 --upstream "$UP#dot.test" || fail "resolver SYS did not start"
r=$(timed SYS www.dot.test A)
[ "${r% *}" = SERVFAIL ] && pass "system store does not trust the test CA: SERVFAIL" || fail "system store: '$r'"

# ---- 7. --tls-insecure: anything goes, loudly ----
resolver_start INS --threads 1 --upstream "$UP#wrong.test" --tls-ca "$D/other.pem" --tls-insecure ||
	fail "resolver INS did not start"
a=$(rdig INS www.dot.test A +short)
[ "$a" = 192.0.2.1 ] && pass "--tls-insecure answers despite name and CA" || fail "--tls-insecure: '$a'"
grep -q "WITHOUT certificate verification" "$INS_LOG" && pass "--tls-insecure warns" || fail "no insecure warning"
"$ANTIDOTE" resolve --help | grep -A1 -- '--tls-insecure' | has DANGER && pass "--help flags --tls-insecure" ||
	fail "--help says nothing loud about --tls-insecure"

# ---- 8. bad settings are refused at start ----
out=$("$ANTIDOTE" resolve --listen 127.0.0.1:0 --upstream "$UP" --tls-ca "$D/nonexistent.pem" 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "tls-ca .*nonexistent.pem: No such file" <<<"$out" && pass "missing --tls-ca file refused" ||
	fail "missing --tls-ca: rc=$rc $out"
out=$("$ANTIDOTE" resolve --listen 127.0.0.1:0 --upstream "$UP" --tls-ca "$D/ext" 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "no PEM certificate" <<<"$out" && pass "--tls-ca without certificates refused" ||
	fail "bad --tls-ca: rc=$rc $out"
out=$("$ANTIDOTE" resolve --listen 127.0.0.1:0 --upstream "tls://127.0.0.1:$UB_PORT#bad_name!" 2>&1)
[ $? -ne 0 ] && grep -q "bad TLS name" <<<"$out" && pass "bad #NAME refused" || fail "bad #NAME: $out"

# ---- 9. config file and --server routes ----
cat >"$D/r.conf" <<EOF
# DoT for many.test only; everything else to a plain upstream that is down
upstream 127.0.0.1:9
server=/many.test/$UP#dot.test
tls-ca $D/ca.pem
EOF
resolver_start CF --threads 1 --attempts 1 --config "$D/r.conf" || fail "resolver CF did not start"
a=$(rdig CF x.many.test A +short)
[ "$a" = 192.0.2.7 ] && pass "config file: server=/many.test/tls://... routes over TLS" || fail "config route: '$a'"
grep -q "DNS over TLS, certificate must name dot.test (trust: $D/ca.pem)" "$CF_LOG" &&
	pass "config file: tls-ca applied" || fail "config file tls-ca not applied"

# ---- 10. a reload adds a DoT upstream to a resolver that had none ----
: >"$D/routes.conf"
resolver_start RL --threads 2 --attempts 1 --upstream 127.0.0.1:9 --route "$D/routes.conf" --tls-ca "$D/ca.pem" ||
	fail "resolver RL did not start"
echo "server=/many.test/$UP#dot.test" >"$D/routes.conf"
kill -HUP "$RL_PID"
for _ in $(seq 100); do grep -qE 'reload [0-9]+:|reload (failed|refused)' "$RL_LOG" && break; sleep 0.05; done
grep -q "(added by reload)" "$RL_LOG" && pass "reload: the DoT upstream added ($(grep -o 'tls://[^ ]*' "$RL_LOG" | head -1))" ||
	fail "reload DoT: $(tail -2 "$RL_LOG")"
ok=0
for i in 1 2 3 4; do [ "$(rdig RL "r$i.many.test" A +short)" = 192.0.2.7 ] && ok=$((ok + 1)); done
[ $ok -eq 4 ] && pass "names routed to the added DoT upstream answered (4/4, both workers)" || fail "added DoT: $ok/4"

e2e_finish
