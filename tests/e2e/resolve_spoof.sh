#!/usr/bin/env bash
# resolve_spoof.sh — an off-path spoofer ($TOOLS/spoof: raw IPv4 packets
# with the upstream's address and port as source) floods forged answers
# with random IDs at the resolver's upstream-facing ports (and at random
# ports) while the resolver asks a slow upstream (antidote inject relay,
# 150 ms each way, in front of antidote serve). Nothing is poisoned: every
# answer, fresh and cached, is the genuine one; the forgeries are counted
# as mismatches. 0x20 is on, as it should be against such floods (IDs alone
# give 16 bits; the spoofer here even reads the ports from /proc).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resolve_lib.bash"
e2e_init

[ -x "$TOOLS/spoof" ] || { fail "spoof tool missing at $TOOLS/spoof"; e2e_finish; }
server_start antidote ANT "$RES_ZONE" || { fail "antidote serve did not start"; e2e_finish; }
RELAY_PORT=$(pick_port)
"$ANTIDOTE" inject --listen "127.0.0.1:$RELAY_PORT" --forward "127.0.0.1:$ANT_PORT" --profile none --delay 150 \
	>"$E2E_TMP/relay.log" 2>&1 &
E2E_PIDS+=($!)
wait_bound "$RELAY_PORT" $! || { fail "relay did not start: $(cat "$E2E_TMP/relay.log")"; e2e_finish; }
UP=127.0.0.1:$RELAY_PORT
resolver_start R --upstream "$UP" --threads 1 --0x20 || { fail "resolver did not start"; e2e_finish; }

names=()
for i in $(seq 1 10); do names+=("target$i.spoofme.wild.resolve.test"); done
nargs=()
for n in "${names[@]}"; do nargs+=(-n "$n"); done
"$TOOLS/spoof" -u "$UP" "${nargs[@]}" -a 192.0.2.66 -t 5000 >"$E2E_TMP/spoof.out" 2>&1 &
SPOOF=$!
E2E_PIDS+=($SPOOF)
sleep 0.2
if ! kill -0 $SPOOF 2>/dev/null; then
	echo "# spoof could not run: $(cat "$E2E_TMP/spoof.out")"
	fail "spoofer did not run (needs CAP_NET_RAW)"
	e2e_finish
fi
genuine=0 forged=0 other=0
for n in "${names[@]}"; do
	a=$(rdig R +short +time=6 "$n" A) # a flood on one core: give retries time
	case $a in
	192.0.2.99) genuine=$((genuine + 1)) ;;
	*192.0.2.66*) forged=$((forged + 1)) ;;
	*) other=$((other + 1)); echo "# $n: '$a'" ;;
	esac
done
wait $SPOOF
cat "$E2E_TMP/spoof.out" | sed 's/^/# spoof: /'
sent=$(grep -Eo 'sent=[0-9]+' "$E2E_TMP/spoof.out" | cut -d= -f2)
seen=$(grep -Eo 'ports_seen=[0-9]+' "$E2E_TMP/spoof.out" | cut -d= -f2)
[ "$genuine" -eq 10 ] && pass "10/10 answers genuine under the flood (forged $forged, other $other)" ||
	fail "answers: genuine $genuine, forged $forged, other $other"
cached=0
for n in "${names[@]}"; do
	[ "$(rdig R +short "$n" A)" = 192.0.2.99 ] && cached=$((cached + 1))
done
[ "$cached" -eq 10 ] && pass "cache holds only genuine answers afterwards" || fail "cache: $cached/10 genuine"
resolver_stats R
grep "^resolve: upstream $UP" "$R_LOG" | tail -n 1 | sed 's/^/# /'
mis=$(stat_of R "upstream $UP:" mismatches)
idm=$(grep "^resolve: upstream $UP:" "$R_LOG" | tail -n 1 | grep -Eo ",id:[0-9]+" | cut -d: -f2)
if [ "${seen:-0}" -gt 0 ] && [ "${mis:-0}" -gt 0 ] && [ "${idm:-0}" -gt 0 ]; then
	pass "forgeries counted: $mis mismatches ($idm wrong ID) of $sent sent, upstream ports found $seen times"
else
	fail "mismatch counters: mismatches=$mis id=$idm (sent $sent, ports seen $seen)"
fi
kill -0 "$R_PID" && pass "resolver still running" || fail "resolver died"
e2e_finish
