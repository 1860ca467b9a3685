#!/usr/bin/env bash
# probe_gfw — `antidote probe` against an `antidote inject` relay (gfw
# triplet) in front of `antidote serve`, with a generated rule set covering
# GFWatch's nine kinds. Ground truth is the relay's --log. Checks, for the
# three detection methods (silent upstream, TCP control, no help at all):
# precision and recall of the censored-name set >= 99%; every injector found
# with its own fingerprint and its pool recovered (= the addresses the log
# says it used); the rule kind of >= 95% of the bases; the SQLite store
# (when the binary has libsqlite3); bad usage exits 2.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init

DATA=${ANTIDOTE_DATA:-$E2E_ROOT/../shared/data}
PER_KIND=${PROBE_PER_KIND:-30}
NOISE=${PROBE_NOISE:-1500}

# ---- the synthetic internet: every name under com/net answers
for tld in com net; do
	cat >"$E2E_TMP/$tld.zone" <<Z
\$ORIGIN $tld.
\$TTL 300
@	IN SOA	ns1.$tld. hostmaster.$tld. 1 7200 3600 1209600 300
@	IN NS	ns1.$tld.
ns1	IN A	192.0.2.53
*	IN A	192.0.2.80
*	IN AAAA	2001:db8::80
Z
done
server_start antidote AUTH "com=$E2E_TMP/com.zone" "net=$E2E_TMP/net.zone" ||
	{ fail "antidote serve did not start"; e2e_finish; }

# ---- rule set: PER_KIND bases per kind, base "s<i>k<kind>.com" (no base is a
# substring of another base's variants: 's' only starts a base)
kinds=("BASE" "BASE.*" "BASE*" "*.BASE" "*BASE" "*.BASE.*" "*.BASE*" "*BASE.*" "*BASE*")
knames=("exact" "base.*" "base*" "*.base" "*base" "*.base.*" "*.base*" "*base.*" "*base*")
: >"$E2E_TMP/rules"
: >"$E2E_TMP/bases"
: >"$E2E_TMP/bases.truth"
i=0
for k in 0 1 2 3 4 5 6 7 8; do
	for j in $(seq 1 "$PER_KIND"); do
		i=$((i + 1))
		b="s${i}k$k.com"
		echo "${kinds[$k]//BASE/$b}" >>"$E2E_TMP/rules"
		echo "$b" >>"$E2E_TMP/bases"
		echo "$b ${knames[$k]}" >>"$E2E_TMP/bases.truth"
	done
done
NB=$i
# names: each base's variants (as the kinds probe sends them) plus noise
{
	while read -r b; do
		printf '%s\nwww.%s\nx%s\n%s.x\n%sx\nwww.%s.x\nx%s.x\nx%sx\nwww.%sx\n' "$b" "$b" "$b" "$b" "$b" "$b" "$b" "$b" "$b"
	done <"$E2E_TMP/bases"
	for j in $(seq 1 "$NOISE"); do echo "u$j.com"; echo "www.u$j.net"; done
} >"$E2E_TMP/names"
NN=$(wc -l <"$E2E_TMP/names")
echo "# $NB bases in 9 kinds, $NN names"

POOLS=()
[ -r "$DATA/gfw-injector3-pool-a.txt" ] && POOLS=(--pool-a "$DATA/gfw-injector3-pool-a.txt")

# relay_start FORWARD_PORT LOG ARGS...: sets RELAY_PORT, RELAY_PID
relay_start() {
	local fwd=$1 log=$2 try port pid
	shift 2
	for try in 1 2 3 4 5; do
		port=$(pick_port) || return 1
		"$ANTIDOTE" inject --listen "127.0.0.1:$port" --forward "127.0.0.1:$fwd" --profile gfw \
			--rules "$E2E_TMP/rules" --log "$log" "${POOLS[@]}" "$@" \
			>"$E2E_TMP/relay.out" 2>"$E2E_TMP/relay.err" </dev/null &
		pid=$!
		E2E_PIDS+=("$pid")
		if wait_bound "$port" "$pid"; then
			RELAY_PORT=$port RELAY_PID=$pid
			return 0
		fi
	done
	return 1
}
relay_stop() { kill "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null; }

# name set from JSON lines with a given verdict
verdict_names() { grep "\"verdict\":\"$2\"" "$1" | sed 's/^{"name":"\([^"]*\)".*/\1/' | sort -u; }
truth_names() { sed 's/.*"qname":"\([^"]*\)".*/\1/' "$1" | tr 'A-Z' 'a-z' | sort -u; }
# prf TRUTHFILE FOUNDFILE -> "tp precision recall" (per mille)
prf() {
	local tp nt nf
	tp=$(comm -12 "$1" "$2" | wc -l) nt=$(wc -l <"$1") nf=$(wc -l <"$2")
	echo "$tp $((nf ? tp * 1000 / nf : 0)) $((nt ? tp * 1000 / nt : 0))"
}
check_prf() { # LABEL TRUTH FOUND
	local r tp p rc
	r=$(prf "$2" "$3")
	read -r tp p rc <<<"$r"
	echo "# $1: truth $(wc -l <"$2"), found $(wc -l <"$3"), true positives $tp"
	[ "$p" -ge 990 ] && pass "$1: precision $p/1000" || fail "$1: precision $p/1000"
	[ "$rc" -ge 990 ] && pass "$1: recall $rc/1000" || fail "$1: recall $rc/1000"
}

# ---- (a) GFWatch: the relay's upstream is a silent port
SILENT=$(pick_port)
relay_start "$SILENT" "$E2E_TMP/truth-a.jsonl" --delay 5 || { fail "relay (silent) did not start"; e2e_finish; }
"$ANTIDOTE" probe --names "$E2E_TMP/names" --silent "127.0.0.1:$RELAY_PORT" --rate 20000 --timeout 300 \
	--retries 1 --window 100 >"$E2E_TMP/a.jsonl" 2>"$E2E_TMP/a.err"
rc=$?
relay_stop
[ $rc -eq 0 ] && pass "probe --silent exits 0" || fail "probe --silent exit $rc: $(tail -3 "$E2E_TMP/a.err")"
[ "$(grep -c '"name":' "$E2E_TMP/a.jsonl")" -eq "$NN" ] && pass "one line per query ($NN)" ||
	fail "$(grep -c '"name":' "$E2E_TMP/a.jsonl") query lines, want $NN"
grep -q '^{"summary":' "$E2E_TMP/a.jsonl" && pass "summary line" || fail "no summary line"
grep -q 'probe: .* done' "$E2E_TMP/a.err" && pass "progress on stderr" || fail "no progress line"
truth_names "$E2E_TMP/truth-a.jsonl" >"$E2E_TMP/ta"
verdict_names "$E2E_TMP/a.jsonl" forged >"$E2E_TMP/fa"
check_prf "silent upstream" "$E2E_TMP/ta" "$E2E_TMP/fa"

# injectors and pools: the log names gfw1..3 and their addresses
ninj=$(grep -c '^{"injector":' "$E2E_TMP/a.jsonl")
[ "$ninj" -eq 3 ] && pass "three injectors told apart" || fail "$ninj injectors found, want 3"
for inj in gfw1 gfw2 gfw3; do
	grep "\"injector\":\"$inj\"" "$E2E_TMP/truth-a.jsonl" | sed 's/.*"address":"\([^"]*\)".*/\1/' | sort -u >"$E2E_TMP/pool.$inj"
	best=0
	while read -r line; do
		echo "$line" | sed 's/.*"pool":\[//; s/\].*//' | tr ',' '\n' | tr -d '"' | sort -u >"$E2E_TMP/pool.found"
		same=$(comm -3 "$E2E_TMP/pool.$inj" "$E2E_TMP/pool.found" | wc -l)
		[ "$same" -eq 0 ] && best=1
	done < <(grep '^{"injector":' "$E2E_TMP/a.jsonl")
	[ "$best" -eq 1 ] && pass "$inj: pool recovered exactly ($(wc -l <"$E2E_TMP/pool.$inj") addresses)" ||
		fail "$inj: no injector with its pool ($(wc -l <"$E2E_TMP/pool.$inj") addresses)"
done
grep -q '"ip_ttl":53,' "$E2E_TMP/a.jsonl" && grep -q '"ip_ttl":169,' "$E2E_TMP/a.jsonl" &&
	pass "IP TTL fingerprints seen (53, 169)" || fail "IP TTLs 53/169 not seen"

# ---- rule kinds (GFWatch method: silent upstream)
relay_start "$SILENT" "$E2E_TMP/truth-k.jsonl" --delay 5 || { fail "relay (kinds) did not start"; e2e_finish; }
"$ANTIDOTE" probe --kinds --names "$E2E_TMP/bases" --silent "127.0.0.1:$RELAY_PORT" --rate 20000 --timeout 300 \
	--retries 1 --window 100 --quiet >"$E2E_TMP/k.jsonl" 2>"$E2E_TMP/k.err"
relay_stop
grep '^{"base":' "$E2E_TMP/k.jsonl" | sed 's/^{"base":"\([^"]*\)".*"kind":"\([^"]*\)".*/\1 \2/' | sort >"$E2E_TMP/k.found"
sort "$E2E_TMP/bases.truth" >"$E2E_TMP/k.truth"
right=$(comm -12 "$E2E_TMP/k.truth" "$E2E_TMP/k.found" | wc -l)
echo "# rule kinds: $right/$NB right"
comm -23 "$E2E_TMP/k.truth" "$E2E_TMP/k.found" | head -5 | sed 's/^/# wrong: /'
[ $((right * 100)) -ge $((NB * 95)) ] && pass "rule kind right for $right/$NB bases (>= 95%)" ||
	fail "rule kind right for only $right/$NB bases"
for k in "${knames[@]}"; do
	awk -v k="$k" '$2 == k {f = 1} END {exit !f}' "$E2E_TMP/k.found" || fail "kind $k never recovered"
done

# ---- (b) control over TCP: the relay forwards to the real server
relay_start "$AUTH_PORT" "$E2E_TMP/truth-b.jsonl" --delay 5 || { fail "relay (control) did not start"; e2e_finish; }
"$ANTIDOTE" probe --names "$E2E_TMP/names" --target "127.0.0.1:$RELAY_PORT" --control "127.0.0.1:$AUTH_PORT" \
	--rate 20000 --window 100 --no-edns --no-replies >"$E2E_TMP/b.jsonl" 2>"$E2E_TMP/b.err"
rc=$?
[ $rc -eq 0 ] && pass "probe --control exits 0" || fail "probe --control exit $rc: $(tail -3 "$E2E_TMP/b.err")"
grep -q 'control answered' "$E2E_TMP/b.err" && pass "control fetched over TCP" || fail "no control phase"
truth_names "$E2E_TMP/truth-b.jsonl" >"$E2E_TMP/tb"
verdict_names "$E2E_TMP/b.jsonl" forged >"$E2E_TMP/fb"
check_prf "TCP control (no EDNS)" "$E2E_TMP/tb" "$E2E_TMP/fb"

# ---- (c) no help: differing replies, OPT echo
"$ANTIDOTE" probe --names "$E2E_TMP/names" --target "127.0.0.1:$RELAY_PORT" --rate 20000 --window 100 \
	>"$E2E_TMP/c.jsonl" 2>"$E2E_TMP/c.err"
truth_names "$E2E_TMP/truth-b.jsonl" >"$E2E_TMP/tc" # same rules, same names
verdict_names "$E2E_TMP/c.jsonl" forged >"$E2E_TMP/fc"
check_prf "differing replies (OPT echo)" "$E2E_TMP/tc" "$E2E_TMP/fc"
# without EDNS nothing tells forged from genuine: conflicts, never a guess
"$ANTIDOTE" probe --names "$E2E_TMP/bases" --target "127.0.0.1:$RELAY_PORT" --window 100 --no-edns --quiet \
	>"$E2E_TMP/c2.jsonl" 2>/dev/null
nf=$(grep -c '"verdict":"forged"' "$E2E_TMP/c2.jsonl") nc=$(grep -c '"verdict":"conflict"' "$E2E_TMP/c2.jsonl")
[ "$nf" -eq 0 ] && [ "$nc" -gt 0 ] && pass "no EDNS, no control: $nc conflicts, no forged guesses" ||
	fail "no EDNS, no control: forged $nf conflict $nc"
# the store
"$ANTIDOTE" probe --names "$E2E_TMP/names" --target "127.0.0.1:$RELAY_PORT" --rate 20000 --window 100 \
	--sqlite "$E2E_TMP/p.db" >"$E2E_TMP/d.jsonl" 2>"$E2E_TMP/c.err"
rc=$?
relay_stop
verdict_names "$E2E_TMP/d.jsonl" forged >"$E2E_TMP/fc"
if grep -q 'libsqlite3.so.0 not found' "$E2E_TMP/c.err"; then
	[ $rc -eq 1 ] && pass "--sqlite without libsqlite3: clear error, exit 1 (no sqlite test)" || fail "--sqlite w/o lib: exit $rc"
elif command -v sqlite3 >/dev/null; then
	[ $rc -eq 0 ] && pass "probe --sqlite exits 0" || fail "probe --sqlite exit $rc"
	nq=$(sqlite3 "$E2E_TMP/p.db" 'select count(*) from query')
	nf=$(sqlite3 "$E2E_TMP/p.db" "select count(*) from query where verdict='forged'")
	ni=$(sqlite3 "$E2E_TMP/p.db" 'select count(*) from injector')
	nr=$(sqlite3 "$E2E_TMP/p.db" "select count(*) from reply where class='forged'")
	[ "$nq" -eq "$NN" ] && [ "$nf" -eq "$(wc -l <"$E2E_TMP/fc")" ] && [ "$ni" -eq 3 ] && [ "$nr" -gt "$nf" ] &&
		pass "sqlite: $nq queries, $nf forged, $nr forged replies, $ni injectors" ||
		fail "sqlite: queries $nq forged $nf injectors $ni forged replies $nr"
fi

# ---- usage
"$ANTIDOTE" probe --target 127.0.0.1:1 >/dev/null 2>&1; [ $? -eq 2 ] && pass "no --names: exit 2" || fail "no --names"
"$ANTIDOTE" probe --names "$E2E_TMP/bases" --target localhost >/dev/null 2>&1
[ $? -eq 2 ] && pass "host name target refused: exit 2" || fail "host name target accepted"
echo "bad..name" >"$E2E_TMP/bad"
"$ANTIDOTE" probe --names "$E2E_TMP/bad" --target 127.0.0.1:1 >/dev/null 2>"$E2E_TMP/bad.err"
[ $? -eq 1 ] && grep -q ':1: bad name' "$E2E_TMP/bad.err" && pass "bad name: FILE:LINE error" || fail "bad name not reported"
e2e_finish
