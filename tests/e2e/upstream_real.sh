#!/usr/bin/env bash
# upstream_real.sh — the upstream module (via $TOOLS/upquery) against real
# servers on loopback: NSD 4.6 and antidote serve. UDP and TCP answers,
# 0x20 case echo, IP TTL metadata, failover from a dead port, RTT-ordered
# selection over two live servers, routing through a dnsmasq-style file.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init
UPQ=$TOOLS/upquery
ZONE=example.com=$E2E_ZONES/example.com.zone
if [ ! -x "$UPQ" ]; then
	fail "upquery missing at $UPQ"
	e2e_finish
fi
server_start antidote ANT "$ZONE" || { fail "antidote serve did not start"; e2e_finish; }
if command -v nsd >/dev/null; then
	server_start nsd NSD "$ZONE" || fail "nsd did not start"
fi

check() { # label, then a command whose stdout must match every grep -E pattern after --
	local label=$1; shift
	local cmd=() out
	while [ $# -gt 0 ] && [ "$1" != -- ]; do cmd+=("$1"); shift; done
	shift
	out=$("${cmd[@]}" 2>&1)
	local rc=$? p
	for p in "$@"; do
		if ! grep -Eq -- "$p" <<<"$out"; then
			fail "$label: no line matching '$p' (rc $rc)"
			sed 's/^/    /' <<<"$out" | head -20
			return
		fi
	done
	pass "$label"
}

for S in ANT NSD; do
	port_var=${S}_PORT
	P=${!port_var:-}
	[ -n "$P" ] || continue
	check "$S udp" "$UPQ" -s "127.0.0.1#$P" -n www.example.com -- \
		'^reply q=0 seq=0 .* transport=udp .*ip_ttl=64 rcode=NOERROR tc=0 opt=1' \
		'^end q=0 reason=accepted' 'accepted=1 timeouts=0 errors=0'
	check "$S tcp" "$UPQ" -s "127.0.0.1#$P" -n www.example.com --tcp -c 3 -- \
		'^reply q=2 seq=0 .* transport=tcp .*ip_ttl=-1 rcode=NOERROR' \
		'queries=3 tcp=3 replies=3 accepted=3'
	check "$S 0x20" "$UPQ" -s "127.0.0.1#$P" -n abcdefghijklmnop.www.example.com --0x20 -c 5 -- \
		'^end q=4 reason=accepted' 'accepted=5 ' 'case:0'
	check "$S nxdomain accepted" "$UPQ" -s "127.0.0.1#$P" -n nope.example.com -- \
		'rcode=NXDOMAIN' 'reason=accepted'
	check "$S refused: retried, then passed on" "$UPQ" -s "127.0.0.1#$P" -n www.example.org --attempts 2 -- \
		'^reply q=0 seq=0 .*attempt=0 .*rcode=REFUSED' '^reply q=0 seq=1 .*attempt=1 .*rcode=REFUSED' \
		'^end q=0 reason=accepted replies=2' ' refused=2 '
done

DEAD=$(pick_port)
check "dead port first: fail over at once (ICMP)" "$UPQ" -s "127.0.0.1#$DEAD" -s "127.0.0.1#$ANT_PORT" \
	-n www.example.com --rto 2000 -- \
	"^reply q=0 seq=0 server=127.0.0.1:$ANT_PORT attempt=1 " \
	"^stats server=127.0.0.1:$DEAD .*accepted=0 .*errors=1"

if [ -n "${NSD_PORT:-}" ]; then
	check "two live servers: both measured, then the faster" "$UPQ" -s "127.0.0.1#$NSD_PORT" \
		-s "127.0.0.1#$ANT_PORT" -n www.example.com -c 6 -- \
		"^reply q=0 seq=0 server=127.0.0.1:$NSD_PORT " "^reply q=1 seq=0 server=127.0.0.1:$ANT_PORT " \
		'^end q=5 reason=accepted'
fi

printf 'server=127.0.0.1#%s\nserver=/example.com/127.0.0.1#%s\nlocal=/lan/\n' "$DEAD" "$ANT_PORT" >"$E2E_TMP/routes.conf"
check "route file: domain rule wins over the default" "$UPQ" -r "$E2E_TMP/routes.conf" -n www.example.com -- \
	"^reply q=0 seq=0 server=127.0.0.1:$ANT_PORT attempt=0 .*rcode=NOERROR"
out=$("$UPQ" -r "$E2E_TMP/routes.conf" -n printer.lan 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "local" <<<"$out"; then pass "route file: local domain not forwarded"; else fail "local domain: rc $rc: $out"; fi
printf 'server=/example.com/127.0.0.1#%s\nserver=/bad/1.2.3\n' "$ANT_PORT" >"$E2E_TMP/bad.conf"
out=$("$UPQ" -r "$E2E_TMP/bad.conf" -n www.example.com 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "bad.conf:2: bad address '1.2.3'" <<<"$out"; then pass "route file error with file:line"; else fail "route file error: rc $rc: $out"; fi

e2e_finish
