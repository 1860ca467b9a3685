#!/usr/bin/env bash
# serve_vs_nsd.sh — proves two DNS servers answer identically (default: Debian's NSD vs `antidote serve`).
#
# usage: serve_vs_nsd.sh [A B]      A, B in nsd|knot|antidote (default nsd antidote;
#                                   also E2E_A / E2E_B). A is the reference.
#
# Both servers load the zones of tests/data/zones (see e2e_zone_list in
# lib.sh). The query list is derived: every (owner, type) that an AXFR of each
# zone from the reference returns (ldns-read-zone on the files when the
# reference is antidote), plus absent types at every owner (NODATA), and
# hand-picked NXDOMAIN, wildcard, delegation, CNAME, DNAME, out-of-zone
# (REFUSED) and mixed-case names. Each query runs in every option group
# (UDP/TCP, no EDNS, EDNS with 512/1232/4096 buffers, DO=1, RD=0, NSID,
# cookie). Replies are normalised from dig output: header (opcode, rcode,
# every flag, section counts), OPT pseudo-section (version, flags, UDP size,
# NSID, cookie), question (case kept: servers echo it), and each section as a
# sorted set of records with owner names lowercased and blanks squeezed.
# Equality must be exact (100%). E2E_TC_LOOSE=1 compares only rcode and flags
# of answers that have TC=1 in both replies (off by default: NSD and the
# target agree on what survives truncation). E2E_SHOW (default 3) mismatches
# are printed per group. E2E_GROUPS restricts the option groups (a regex).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

A=${1:-${E2E_A:-nsd}}
B=${2:-${E2E_B:-antidote}}
SHOW=${E2E_SHOW:-3}
e2e_init

mapfile -t ZONES < <(e2e_zone_list)
echo "# comparing $A (reference) with $B"

# 1. every zone must load in NSD.
for z in "${ZONES[@]}"; do
	if out=$(nsd-checkzone "${z%%=*}" "${z#*=}" 2>&1); then
		pass "nsd-checkzone ${z%%=*}"
	else
		fail "nsd-checkzone ${z%%=*}: $out"
	fi
done

if [ "$A" = antidote ] || [ "$B" = antidote ]; then
	if [ ! -x "$ANTIDOTE" ]; then
		fail "antidote binary $ANTIDOTE missing (build it first)"
		e2e_finish
	fi
fi

# 2. start both servers.
if ! server_start "$A" SA "${ZONES[@]}"; then
	fail "$A did not start (stderr: $(tail -3 "$E2E_TMP/SA/stderr" 2>/dev/null | tr '\n' ' '))"
	e2e_finish
fi
if ! server_start "$B" SB "${ZONES[@]}"; then
	fail "$B did not start (stderr: $(tail -3 "$E2E_TMP/SB/stderr" 2>/dev/null | tr '\n' ' '))"
	e2e_finish
fi

# 3. the query list: "category<TAB>name<TAB>type", one a line.
Q=$E2E_TMP/queries.tsv
RRS=$E2E_TMP/zone-rrs.txt
: >"$RRS"
for z in "${ZONES[@]}"; do
	name=${z%%=*} file=${z#*=}
	case $A in
	nsd | knot)
		dig @127.0.0.1 -p "$SA_PORT" "$name" AXFR +noall +answer +onesoa +tries=1 +time=5 2>/dev/null |
			awk '$0 !~ /^;/ && NF >= 5 { print tolower($1), $3, $4 }' >"$E2E_TMP/axfr.$name"
		;;
	*)
		ldns-read-zone -o "$name." "$file" 2>/dev/null |
			awk '$0 !~ /^;/ && NF >= 5 { print tolower($1), $3, $4 }' >"$E2E_TMP/axfr.$name"
		;;
	esac
	n=$(wc -l <"$E2E_TMP/axfr.$name")
	if [ "$n" -gt 1 ]; then
		pass "enumerated $name: $n records"
	else
		fail "could not enumerate zone $name"
	fi
	cat "$E2E_TMP/axfr.$name" >>"$RRS"
done
# owner class type, unique. Classes other than IN never appear in our zones.
sort -u "$RRS" | awk '{ print "derived\t" $1 "\t" $3 }' >"$Q"
# NODATA (or CNAME/referral/wildcard answers where those apply): absent
# types at every owner that is not an NSEC3 hash.
sort -u "$RRS" | awk '
	{ owners[$1] = 1; have[$1 " " $3] = 1; if ($3 == "NSEC3") hashed[$1] = 1 }
	END {
		n = split("A AAAA TXT MX NS DS CNAME", t, " ")
		for (o in owners) {
			if (o in hashed) continue
			for (i = 1; i <= n; i++)
				if (!((o " " t[i]) in have)) print "nodata\t" o "\t" t[i]
		}
	}' | sort >>"$Q"
for z in "${ZONES[@]}"; do
	name=${z%%=*}
	printf 'nxdomain\t%s\t%s\n' "nx-e2e.$name." A "a.b.nx-e2e.$name." TXT "nx-e2e.$name." DS >>"$Q"
done
extra() { # category then "name type" pairs
	local cat=$1 q
	shift
	for q in "$@"; do
		printf '%s\t%s\t%s\n' "$cat" "${q% *}" "${q##* }" >>"$Q"
	done
}
extra wildcard "foo.wild.example.com. A" "foo.wild.example.com. TXT" "foo.wild.example.com. AAAA" \
	"foo.wild.example.com. MX" "a.b.wild.example.com. A" "wild.example.com. A" \
	"z.below.wild.example.com. A" "below.wild.example.com. TXT" "x.below.wild.example.com. A" \
	"foo.wcname.example.com. A" "foo.wcname.example.com. AAAA" "foo.wcname.example.com. CNAME" \
	"foo.wcname.example.com. TXT" "foo.wmx.example.com. MX" "foo.wmx.example.com. A" \
	"ent.example.com. A" "deeper.example.com. TXT" "c.deeper.example.com. TXT" \
	"b.c.deeper.example.com. TXT" "x.ent.example.com. A" \
	"anything.child.example.net. TXT" "anything.child.example.net. A" "a.b.child.example.net. TXT" \
	"foo.wild.dnssec.test. A" "foo.wild.dnssec.test. AAAA" "a.b.wild.dnssec.test. A" "ent.dnssec.test. A" \
	"foo.wild.nsec3.test. A" "foo.wild.nsec3.test. AAAA" "a.b.wild.nsec3.test. A" "ent.nsec3.test. A"
extra delegation "host.sub.example.com. A" "ns1.sub.example.com. A" "ns1.sub.example.com. AAAA" \
	"sub.example.com. NS" "sub.example.com. DS" "sub.example.com. A" "sub.example.com. SOA" \
	"a.b.outdeleg.example.com. A" "outdeleg.example.com. NS" "outdeleg.example.com. DS" \
	"secure.example.com. DS" "secure.example.com. NS" "x.secure.example.com. A" \
	"host.insecure.dnssec.test. A" "insecure.dnssec.test. DS" "secure.dnssec.test. DS" \
	"x.secure.dnssec.test. A" "x.secure.nsec3.test. A" "insecure.nsec3.test. DS" \
	"host.insecure.nsec3.test. A" "child.example.net. NS" "child.example.net. DS" \
	"child.example.net. A" "occluded.child.example.net. A" "ns.child.example.net. A" \
	"x.child.example.net. A" "www.bigdeleg.example.com. A" "bigdeleg.example.com. NS" \
	"bigdeleg.example.com. DS"
extra cname "chain1.example.com. A" "chain1.example.com. AAAA" "chain1.example.com. TXT" \
	"chain1.example.com. CNAME" "chain1.example.com. MX" "chain2.example.com. A" \
	"outside.example.com. A" "dangling.example.com. A" "loop1.example.com. A" \
	"alias.example.net. A" "alias.dnssec.test. A" "ext.dnssec.test. A" "alias.nsec3.test. AAAA" \
	"ext.nsec3.test. A"
extra dname "www.redirect.example.com. A" "foo.redirect.example.com. A" \
	"a.sub2.redirect.example.com. A" "a.redirect-in.example.com. A" "x.y.redirect-in.example.com. A" \
	"redirect.example.com. DNAME" "redirect.example.com. A" "redirect-in.example.com. CNAME" \
	"www.redirect.example.com. DNAME" "www.redirect.example.com. CNAME" "redirect-in.example.com. A"
extra refused "example.org. A" "www.example.org. A" "com. SOA" ". NS" "test. SOA" "net. NS" \
	"www.other.test. A" "localhost. A" "example.com.example.org. A" "xample.com. A"
extra case "WwW.ExAmPlE.CoM. A" "CASEMIX.example.com. A" "casemix.EXAMPLE.COM. AAAA" \
	"cHiLd.ExAmPlE.NeT. DS" "X.WILD.example.com. TXT" "FOO.Redirect.Example.Com. A" \
	"CHAIN1.example.com. A" "Sub.Example.Com. NS" "NX-E2E.EXAMPLE.COM. A" "WWW.DNSSEC.TEST. A" \
	"Foo.Wild.Nsec3.Test. A" "EXAMPLE.NET. SOA"

nq=$(wc -l <"$Q")
cats=$(cut -f1 "$Q" | awk '!seen[$0]++' | tr '\n' ' ')
echo "# $nq queries per group; categories: $cats"

# 4. option groups: "label|dig options".
GROUPS_ALL=(
	"udp-noedns|+noedns"
	"udp-512|+bufsize=512 +nocookie"
	"udp-1232|+bufsize=1232 +nocookie"
	"udp-4096|+bufsize=4096 +nocookie"
	"udp-do|+dnssec +bufsize=4096 +nocookie"
	"udp-512-do|+dnssec +bufsize=512 +nocookie"
	"udp-1232-do|+dnssec +bufsize=1232 +nocookie"
	"udp-norec|+norec +nocookie"
	"udp-nsid|+nsid +nocookie"
	"udp-cookie|+cookie"
	"tcp-noedns|+tcp +noedns"
	"tcp-edns|+tcp +nocookie"
	"tcp-do|+tcp +dnssec +nocookie"
)
COMMON="+noall +cmd +comments +question +answer +authority +additional +tries=1 +time=3 +ignore"

# Normalises dig batch output to one line per reply (fields joined by " | "),
# in query order. Section codes keep the sections apart when sorted.
normalise() {
	awk -v strict="${E2E_STRICT_CASE:-0}" '
		function emit(sec, s) { print n "\t" sec "\t" s }
		/^; <<>> DiG / { n++; emit(0, "#"); sect = 0; next }
		n == 0 { next }
		/^;; ->>HEADER<<-/ { sub(/, id: [0-9]+/, ""); sub(/^;; ->>HEADER<<- /, ""); emit(1, "H " $0); next }
		/^;; flags:/ { sub(/^;; /, ""); emit(2, "F " $0); next }
		/^; EDNS:/ || /^; NSID:/ || /^; COOKIE:/ || /^; EDE:/ || /^; [A-Z0-9-]+:/ { sub(/^; /, ""); emit(3, "E " $0); next }
		/^;; QUESTION SECTION:/ { sect = 4; next }
		/^;; ANSWER SECTION:/ { sect = 5; next }
		/^;; AUTHORITY SECTION:/ { sect = 6; next }
		/^;; ADDITIONAL SECTION:/ { sect = 7; next }
		/no servers could be reached/ || /timed out/ { emit(2, "X noreply"); next }
		/^;; (Warning|WARNING|ERROR)/ { sub(/^;; /, ""); emit(2, "W " $0); next }
		/^;/ && sect == 4 { $1 = $1; emit(4, "Q " $0); next }
		/^;/ || /^$/ { next }
		{
			if (!strict) $1 = tolower($1)
			$1 = $1
			emit(sect, substr("ANAUAD", (sect - 5) * 2 + 1, 2) " " $0)
		}' | LC_ALL=C sort -t"$(printf '\t')" -k1,1n -k2,2n -k3,3 |
		awk -F'\t' '
			$1 != cur { if (cur != "") print line; cur = $1; line = "" }
			{ line = line (line == "" ? "" : " | ") $3 }
			END { if (cur != "") print line }'
}

run_group() { # label port opts outfile
	local port=$2 opts=$3 out=$4
	# dig keeps at most 16 words of a batch line: the options go on its
	# command line, where they apply to every batch query.
	cut -f2,3 "$Q" | tr "\t" " " >"$out.batch"
	# shellcheck disable=SC2086
	dig @127.0.0.1 -p "$port" $COMMON $opts -f "$out.batch" >"$out.raw" 2>"$out.err"
	normalise <"$out.raw" >"$out"
}

# Prints a normalised reply one item a line; items missing from the other
# reply are marked with "*".
show_reply() { # label reply other
	awk -v lab="$1" -v a="$2" -v b="$3" 'BEGIN {
		n = split(a, x, " \\| "); m = split(b, y, " \\| ")
		for (i = 1; i <= m; i++) seen[y[i]] = 1
		for (i = 1; i <= n; i++) printf "    %s %s %s\n", (x[i] in seen) ? " " : "*", lab, x[i]
	}'
}

tc_loose() { # reply -> rcode and flags only
	echo "$1" | sed 's/ | /\n/g' | grep -E '^(H|F) ' | sed -E 's/; QUERY:.*//'
}

# Regression dig_own_query_as_reply: dig bound to the server's own port
# reads its query back (the mechanism), so servers must listen below the
# ephemeral range dig draws its source ports from.
lo=$(port_range_low)
if [ "$SA_PORT" -lt "$lo" ] && [ "$SB_PORT" -lt "$lo" ]; then
	pass "dig_own_query_as_reply: server ports $SA_PORT, $SB_PORT below the ephemeral range ($lo)"
else
	fail "dig_own_query_as_reply: a server port ($SA_PORT, $SB_PORT) is inside the ephemeral range ($lo-)"
fi
if dig -b "127.0.0.1#$SA_PORT" @127.0.0.1 -p "$SA_PORT" +tries=1 +time=1 "${ZONES[0]%%=*}" SOA 2>&1 | has 'query response not set'; then
	echo "# dig bound to the server's port reads its own query (the collision that lib.sh avoids)"
fi

total_diff=0
for g in "${GROUPS_ALL[@]}"; do
	label=${g%%|*} opts=${g#*|}
	if [ -n "${E2E_GROUPS:-}" ] && ! [[ $label =~ $E2E_GROUPS ]]; then
		continue
	fi
	# a dead or hung server would make each of the ~800 queries time out
	if ! wait_answers "$SA_PORT" "$SA_PID" "${ZONES[0]%%=*}" 3 ||
		! wait_answers "$SB_PORT" "$SB_PID" "${ZONES[0]%%=*}" 3; then
		fail "[$label] a server stopped answering; remaining groups skipped"
		break
	fi
	run_group "$label" "$SA_PORT" "$opts" "$E2E_TMP/$label.A"
	run_group "$label" "$SB_PORT" "$opts" "$E2E_TMP/$label.B"
	# A reply without QR is dig reading its own query: its random source port
	# equalled the server's (bug dig_own_query_as_reply, fixed by listening
	# below the ephemeral range, lib.sh pick_port). Never compared.
	for k in A B; do
		if grep -q 'query response not set' "$E2E_TMP/$label.$k"; then
			fail "[$label] dig took its own query as the reply from $k (port collision?)"
			E2E_KEEP=1
		fi
	done
	na=$(wc -l <"$E2E_TMP/$label.A") nb=$(wc -l <"$E2E_TMP/$label.B")
	if [ "$na" -ne "$nq" ] || [ "$nb" -ne "$nq" ]; then
		fail "[$label] dig returned $na/$nb replies for $nq queries (see $E2E_TMP)"
		E2E_KEEP=1
		continue
	fi
	paste -d'\n' "$Q" "$E2E_TMP/$label.A" "$E2E_TMP/$label.B" >"$E2E_TMP/$label.joined"
	# per category: total, identical, and the first mismatches.
	declare -A tot=() same=()
	mism=()
	while IFS= read -r qline && IFS= read -r ra && IFS= read -r rb; do
		cat=${qline%%$'\t'*}
		tot[$cat]=$((${tot[$cat]:-0} + 1))
		eq=0
		if [ "$ra" = "$rb" ]; then
			eq=1
		elif [ "${E2E_TC_LOOSE:-0}" = 1 ] && [[ $ra == *"F flags: "*" tc"* ]] && [[ $rb == *"F flags: "*" tc"* ]] &&
			[ "$(tc_loose "$ra")" = "$(tc_loose "$rb")" ]; then
			eq=1
		fi
		if [ $eq = 1 ]; then
			same[$cat]=$((${same[$cat]:-0} + 1))
		else
			mism+=("$cat"$'\t'"$qline"$'\t'"$ra"$'\t'"$rb")
		fi
	done <"$E2E_TMP/$label.joined"
	for cat in $cats; do
		t=${tot[$cat]:-0} s=${same[$cat]:-0}
		if [ "$t" -eq "$s" ]; then
			pass "[$label] $cat: $s/$t identical"
		else
			fail "[$label] $cat: $s/$t identical, $((t - s)) differ"
		fi
	done
	i=0
	for m in "${mism[@]}"; do
		[ $i -lt "$SHOW" ] || break
		IFS=$'\t' read -r cat _ qn qt ra rb <<<"$m"
		echo "  mismatch [$label] $cat: $qn $qt ($opts)"
		show_reply "$A:" "$ra" "$rb"
		show_reply "$B:" "$rb" "$ra"
		i=$((i + 1))
	done
	total_diff=$((total_diff + ${#mism[@]}))
	unset tot same
done

# 5. both servers must still be running.
for l in "SA $A" "SB $B"; do
	pidvar=${l%% *}_PID
	if kill -0 "${!pidvar}" 2>/dev/null; then
		pass "${l#* } still running"
	else
		fail "${l#* } died during the test"
	fi
done
[ "$total_diff" -gt 0 ] && echo "# $total_diff differing replies in all"
e2e_finish
