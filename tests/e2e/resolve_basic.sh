#!/usr/bin/env bash
# resolve_basic.sh — antidote resolve against antidote serve and NSD on
# loopback: correct answers over UDP, TCP and IPv6, the client's case, TTLs
# counting down, negative caching, TC -> TCP upstream, RFC 8482 ANY, REFUSED
# for other classes and for clients outside --allow, FORMERR for garbage,
# config files (and their file:line errors), per-domain --server routing.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resolve_lib.bash"
e2e_init

server_start antidote ANT "$RES_ZONE" || { fail "antidote serve did not start"; e2e_finish; }
if command -v nsd >/dev/null; then
	server_start nsd NSD "$RES_ZONE" || fail "nsd did not start"
fi
resolver_start R --listen "[::1]:0" --upstream "127.0.0.1:$ANT_PORT" --threads 2 ||
	{ fail "resolver did not start"; e2e_finish; }
# [::1]:0 gets its own port; read it from the log
R6_PORT=$(grep -Eo 'listening on \[::1\]:[0-9]+' "$R_LOG" | grep -Eo '[0-9]+$')
UP="127.0.0.1:$ANT_PORT"

direct() { dig @127.0.0.1 -p "$ANT_PORT" +short +norec "$@"; }
same() { # label, dig args: the resolver's answer equals the authority's
	local label=$1; shift
	local a b
	a=$(rdig R +short "$@" | sort)
	b=$(direct "$@" | sort)
	if [ -n "$a" ] && [ "$a" = "$b" ]; then pass "$label"; else fail "$label: got '$a', want '$b'"; fi
}
same "A over UDP" www.resolve.test A
same "AAAA" www.resolve.test AAAA
same "MX" mail.resolve.test MX
same "CNAME chain" alias.resolve.test A
same "wildcard" x.wild.resolve.test A
same "A over TCP" www.resolve.test A +tcp
a=$(dig @::1 -p "$R6_PORT" +tries=1 +time=2 +short www.resolve.test A)
[ "$a" = 192.0.2.1 ] && pass "IPv6 listener" || fail "IPv6 listener: '$a'"

out=$(rdig R WwW.ReSoLvE.TeSt A +noall +question +answer)
grep -q '^;WwW.ReSoLvE.TeSt.' <<<"$out" && grep -q '^WwW.ReSoLvE.TeSt.' <<<"$out" &&
	pass "question and owner in the client's case" || fail "case: $out"

# TTL countdown: ttl10 has TTL 10
t1=$(rdig R ttl10.resolve.test A +noall +answer | awk '{ print $2 }')
sleep 2.2
t2=$(rdig R ttl10.resolve.test A +noall +answer | awk '{ print $2 }')
if [ -n "$t1" ] && [ -n "$t2" ] && [ "$t2" -le $((t1 - 2)) ] && [ "$t2" -ge $((t1 - 3)) ]; then
	pass "TTL counts down ($t1 -> $t2 after 2.2 s)"
else
	fail "TTL countdown: $t1 -> $t2"
fi

# negative caching: two NXDOMAIN queries, one upstream query
resolver_stats R
q0=$(stat_of R "upstream $UP:" queries)
s1=$(rdig R nope.resolve.test A | grep -Eo 'status: [A-Z]+')
s2=$(rdig R nope.resolve.test A +noall +comments +authority)
resolver_stats R
q1=$(stat_of R "upstream $UP:" queries)
if [ "$s1" = "status: NXDOMAIN" ] && grep -q 'status: NXDOMAIN' <<<"$s2" &&
	grep -q 'IN.SOA' <<<"$s2" && [ $((q1 - q0)) -eq 1 ]; then
	pass "NXDOMAIN cached with its SOA (1 upstream query for 2)"
else
	fail "negative caching: $s1; upstream queries $q0 -> $q1; $s2"
fi
soa_ttl=$(awk '/IN.SOA/ { print $2 }' <<<"$s2")
[ -n "$soa_ttl" ] && [ "$soa_ttl" -le 30 ] && pass "negative TTL from SOA MINIMUM ($soa_ttl <= 30)" ||
	fail "negative TTL '$soa_ttl'"

# TC -> TCP: 40 TXT records do not fit 1232 octets
n=$(rdig R big.resolve.test TXT +tcp +short | wc -l)
resolver_stats R
tr=$(stat_of R "upstream $UP:" truncated)
tcp=$(stat_of R "upstream $UP:" tcp)
[ "$n" -eq 40 ] && [ "${tr:-0}" -ge 1 ] && [ "${tcp:-0}" -ge 1 ] &&
	pass "TC upstream -> TCP, all 40 records (truncated=$tr tcp=$tcp)" || fail "TC->TCP: $n records, truncated=$tr tcp=$tcp"
out=$(rdig R big.resolve.test TXT +bufsize=1232 +ignore)
grep -Eq 'flags: qr[a-z ]* tc' <<<"$out" && pass "UDP client gets TC when the answer is too big" ||
	fail "no TC over UDP: $(grep flags <<<"$out")"
n=$(rdig R big.resolve.test TXT +short | wc -l) # dig retries over TCP itself
[ "$n" -eq 40 ] && pass "client retry over TCP gets the cached answer" || fail "TCP retry: $n"

out=$(rdig R www.resolve.test ANY +noall +answer)
grep -q 'HINFO.*"RFC8482"' <<<"$out" && pass "ANY answered with HINFO RFC8482" || fail "ANY: $out"
out=$(rdig R version.bind TXT CH)
grep -q 'status: REFUSED' <<<"$out" && pass "CH class REFUSED" || fail "CH: $(grep status <<<"$out")"

# malformed queries: FORMERR (header readable) or dropped; still alive
if [ -x "$TOOLS/dnsraw" ]; then
	out=$("$TOOLS/dnsraw" -w 1000 "$R_PORT" "abcd0100000100000000000003777777c0ff0001" 2>&1)
	[ "${out:0:8}" = abcd8181 ] || [ "${out:0:8}" = abcd8101 ] && pass "FORMERR for a bad pointer" ||
		fail "bad pointer: $out"
	"$TOOLS/dnsraw" -w 300 "$R_PORT" "00" >/dev/null 2>&1
	"$TOOLS/dnsraw" -w 300 "$R_PORT" "abcd8100000100000000000000010001" >/dev/null 2>&1
	resolver_stats R
	f=$(stat_of R "clients:" formerr); d=$(stat_of R "clients:" dropped)
	[ "${f:-0}" -ge 1 ] && [ "${d:-0}" -ge 2 ] && pass "bad input counted (formerr=$f dropped=$d)" ||
		fail "counters formerr=$f dropped=$d"
fi
same "still answering after bad input" www.resolve.test A

# --allow: 127.0.0.1 outside 10.0.0.0/8 -> REFUSED, nothing sent upstream
resolver_start D --upstream "$UP" --allow 10.0.0.0/8 --threads 1 || fail "resolver D did not start"
if [ -n "${D_PORT:-}" ]; then
	out=$(rdig D www.resolve.test A)
	resolver_stats D
	grep -q 'status: REFUSED' <<<"$out" && [ "$(stat_of D "upstream $UP:" queries)" = 0 ] &&
		pass "client outside --allow REFUSED" || fail "allow: $(grep status <<<"$out")"
fi

# config file, with routing of one domain to NSD
cfg=$E2E_TMP/resolve.conf
{
	echo "# test config"
	echo "upstream 127.0.0.1:$ANT_PORT   # the default"
	[ -n "${NSD_PORT:-}" ] && echo "server=/wild.resolve.test/127.0.0.1#$NSD_PORT"
	echo "threads 1"
	echo "0x20"
	echo "cache-size 8M"
} >"$cfg"
resolver_start C --config "$cfg" || fail "resolver from a config file did not start"
if [ -n "${C_PORT:-}" ]; then
	a=$(rdig C +short www.resolve.test A)
	b=$(rdig C +short abc.wild.resolve.test A)
	[ "$a" = 192.0.2.1 ] && [ "$b" = 192.0.2.99 ] && pass "config file (0x20, cache-size, routes)" ||
		fail "config file: '$a' '$b'"
	if [ -n "${NSD_PORT:-}" ]; then
		resolver_stats C
		qn=$(stat_of C "upstream 127.0.0.1:$NSD_PORT:" accepted)
		[ "${qn:-0}" -eq 1 ] && pass "server=/wild.resolve.test/ went to NSD" || fail "route to NSD: accepted=$qn"
		c=$(stat_of C "upstream 127.0.0.1:$NSD_PORT:" case)
	fi
fi
printf 'upstream 127.0.0.1:%s\nthreads two\n' "$ANT_PORT" >"$E2E_TMP/bad.conf"
out=$("$ANTIDOTE" resolve --listen 127.0.0.1:1 --config "$E2E_TMP/bad.conf" 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q "bad.conf:2: threads" <<<"$out" && pass "config error as file:line ($out)" ||
	fail "config error: rc $rc: $out"

# NSD as the only upstream
if [ -n "${NSD_PORT:-}" ]; then
	resolver_start N --upstream "127.0.0.1:$NSD_PORT" --threads 1 || fail "resolver N did not start"
	a=$(rdig N +short www.resolve.test A)
	n=$(rdig N +short +tcp big.resolve.test TXT | wc -l)
	[ "$a" = 192.0.2.1 ] && [ "$n" -eq 40 ] && pass "NSD upstream (A, TC->TCP)" || fail "NSD upstream: '$a' $n"
fi

# clean stop prints the counters
kill "$R_PID"
wait "$R_PID" 2>/dev/null
grep -q '^resolve: upstream 127.0.0.1' "$R_LOG" && pass "counters printed at exit" || fail "no counters at exit"
e2e_finish
