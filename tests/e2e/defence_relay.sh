#!/usr/bin/env bash
# defence_relay.sh — antidote resolve's injection defence end to end, one
# profile after the other (gfw, iran, jan21): antidote serve behind an
# `antidote inject` relay (20 ms each way) that forges replies for
# *.w.defence.com (jan21: every .com name, 65.49.2.178), and three
# resolvers in front of it:
#   on     --defence on (the default), no list: must serve 0 forged answers
#   off    --defence off: serves forged answers (shows the injector fires)
#   fixed  --defence off --bogus-ip ChinaDNS list: the fixed list of 2015
#          misses today's pools and 65.49.2.178
# Checks every answer against the zone's truth, the verdict log (forged
# lines with reasons) and --learned-bogus (the forged addresses, reloadable
# with --bogus-ip). DEFENCE_PROFILES restricts the profiles.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resolve_lib.bash"
e2e_init

ZONE=defence.com=tests/data/defence/defence.com.zone
IPLIST=${ANTIDOTE_DATA:-../shared/data}/chinadns-forged-iplist.txt
[ -r "$IPLIST" ] || { printf '1.2.3.4\n159.106.121.75\n' >"$E2E_TMP/iplist.txt"; IPLIST=$E2E_TMP/iplist.txt; }
printf '*.w.defence.com\n' >"$E2E_TMP/rules.txt"

server_start antidote ANT "$ZONE" || { fail "antidote serve did not start"; e2e_finish; }

# truth NAME TYPE ANSWER -> 0 when ANSWER (dig +short, one line) is the zone's
truth() {
	case $2 in
	A) [ "$3" = 192.0.2.99 ] || [ "$3" = 192.0.2.77 ] || [ "$3" = 192.0.2.1 ] ;;
	AAAA) [ "$3" = 2001:db8::99 ] || [ "$3" = 2001:db8::1 ] ;;
	MX) [ "$3" = "10 www.defence.com." ] ;;
	*) return 1 ;;
	esac
}

# ask LABEL PREFIX N -> sets GOOD FORGED OTHER for N names under w.defence.com
ask() {
	local label=$1 prefix=$2 n=$3 i t ans out
	GOOD=0 FORGED=0 OTHER=0
	for ((i = 0; i < n; i++)); do
		case $((i % 6)) in 4) t=AAAA ;; 5) t=MX ;; *) t=A ;; esac
		out=$(rdig "$label" +short "$prefix$i.w.defence.com" "$t" 2>/dev/null)
		ans=$(head -n 1 <<<"$out")
		if [ -z "$ans" ] || [[ $ans == \;* ]]; then
			OTHER=$((OTHER + 1))
		elif truth "$prefix$i" "$t" "$ans"; then
			GOOD=$((GOOD + 1))
		else
			FORGED=$((FORGED + 1))
			echo "# $label forged: $prefix$i.w.defence.com $t -> $ans"
		fi
	done
}

for profile in ${DEFENCE_PROFILES:-gfw iran jan21}; do
	RELAY_PORT=$(pick_port)
	"$ANTIDOTE" inject --listen "127.0.0.1:$RELAY_PORT" --forward "127.0.0.1:$ANT_PORT" --profile "$profile" \
		--delay 20 --rules "$E2E_TMP/rules.txt" --jan21-start 0 --jan21-duration 3600000 --jan21-ttl 300 \
		--log "$E2E_TMP/inject-$profile.jsonl" >"$E2E_TMP/relay-$profile.log" 2>&1 &
	E2E_PIDS+=($!)
	wait_bound "$RELAY_PORT" $! || { fail "$profile: relay did not start: $(cat "$E2E_TMP/relay-$profile.log")"; continue; }
	UP=127.0.0.1:$RELAY_PORT
	V=$E2E_TMP/verdicts-$profile.jsonl
	L=$E2E_TMP/learned-$profile.txt
	resolver_start ON --upstream "$UP" --threads 1 --log-verdicts "$V" --learned-bogus "$L" ||
		{ fail "$profile: resolver (defence on) did not start"; continue; }
	resolver_start OFF --upstream "$UP" --threads 1 --defence off ||
		{ fail "$profile: resolver (defence off) did not start"; continue; }
	resolver_start FIX --upstream "$UP" --threads 1 --defence off --bogus-ip "$IPLIST" ||
		{ fail "$profile: resolver (fixed list) did not start"; continue; }
	sleep 0.3 # probes

	ask ON "$profile-" 48
	on_good=$GOOD on_forged=$FORGED on_other=$OTHER
	[ "$on_forged" -eq 0 ] && [ "$on_good" -ge 46 ] &&
		pass "$profile: defence on served 0 forged ($on_good genuine, $on_other failed)" ||
		fail "$profile: defence on: $on_forged forged, $on_good genuine, $on_other failed"
	# a name the blocklist does not match goes through untouched (jan21: also forged there)
	a=$(rdig ON +short "x.free.defence.com" A)
	[ "$a" = 192.0.2.77 ] && pass "$profile: unlisted name answered ($a)" || fail "$profile: unlisted name: '$a'"
	ask OFF "$profile-off-" 24
	[ "$FORGED" -ge 12 ] && pass "$profile: defence off served $FORGED/24 forged (the injector fires)" ||
		fail "$profile: defence off served only $FORGED forged"
	ask FIX "$profile-fix-" 24
	echo "# $profile: fixed ChinaDNS list: $FORGED/24 forged, $GOOD genuine, $OTHER failed"
	if [ "$profile" = jan21 ] || [ "$profile" = iran ]; then
		[ "$FORGED" -ge 12 ] && pass "$profile: the fixed 2015 list misses these forged addresses ($FORGED/24 served)" ||
			fail "$profile: fixed list served only $FORGED forged"
	fi

	resolver_stats ON
	forged_n=$(stat_of ON "defence upstream $UP:" forged)
	acc=$(stat_of ON "defence upstream $UP:" accepted)
	grep "^resolve: defence upstream $UP" "$ON_LOG" | tail -n 1 | sed 's/^/# /'
	[ "${forged_n:-0}" -ge 40 ] && pass "$profile: counters forged=$forged_n accepted=$acc" ||
		fail "$profile: counters forged=$forged_n accepted=$acc"
	if grep -q '"verdict":"forged"' "$V" && grep -m1 '"verdict":"forged"' "$V" | has '"why":"dropped as forged: '; then
		pass "$profile: verdict log explains forged replies ($(grep -c '"verdict":"forged"' "$V") lines)"
	else
		fail "$profile: verdict log: $(head -c 300 "$V")"
	fi
	kill "$ON_PID" "$OFF_PID" "$FIX_PID" 2>/dev/null
	wait "$ON_PID" 2>/dev/null
	case $profile in
	jan21) want=65.49.2.178 ;;
	iran) want=10.10.34.3 ;;
	*) want=. ;;
	esac
	if [ -s "$L" ] && grep -q "^$want" "$L"; then
		pass "$profile: --learned-bogus wrote $(wc -l <"$L") forged addresses (incl. $(grep -m1 "^$want" "$L"))"
		# reloading the learnt list: the fixed filter now catches what it learnt
		resolver_start RE --upstream "$UP" --threads 1 --defence off --bogus-ip "$L" ||
			fail "$profile: --bogus-ip learnt list refused"
		if [ -n "${RE_PORT:-}" ]; then
			ask RE "$profile-" 12 # the names asked before: the pools' addresses are known
			[ "$FORGED" -le 6 ] && pass "$profile: learnt list reloaded ($FORGED/12 still forged with defence off)" ||
				fail "$profile: learnt list reloaded: $FORGED/12 forged"
			kill "$RE_PID" 2>/dev/null
		fi
	else
		fail "$profile: learned-bogus: $(head -c 200 "$L" 2>/dev/null)"
	fi
done
e2e_finish
