#!/usr/bin/env bash
# serve_badinput.sh — malformed and unusual packets must get FORMERR/NOTIMP/BADVERS/REFUSED or no reply, never a crash.
#
# usage: serve_badinput.sh [KIND]     KIND in antidote (default) | nsd | knot
#                                     (also E2E_SERVER), to check the
#                                     expectations against the reference.
#
# Sends raw packets with $TOOLS/dnsraw over UDP and TCP. Each case accepts a
# set of outcomes (rcode names, or "drop" for no reply / connection closed);
# the first one listed is what NSD 4.6 does (see tests/e2e/README.md).
# E2E_BAD_STRICT=1 accepts only NSD's outcome. Every reply must echo the ID
# (and the opcode) with QR=1. Afterwards the server must still run and answer
# normal queries. With antidote it also checks that a zone with a syntax
# error makes `antidote serve` exit 1 with "file:line:" on stderr.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

KIND=${1:-${E2E_SERVER:-antidote}}
RAW=$TOOLS/dnsraw
e2e_init

if [ ! -x "$RAW" ]; then
	fail "dnsraw missing at $RAW (make BUILD=... all)"
	e2e_finish
fi
if [ "$KIND" = antidote ] && [ ! -x "$ANTIDOTE" ]; then
	fail "antidote binary $ANTIDOTE missing"
	e2e_finish
fi

if ! server_start "$KIND" S "example.com=$E2E_ZONES/example.com.zone"; then
	fail "$KIND did not start (stderr: $(tail -3 "$E2E_TMP/S/stderr" 2>/dev/null | tr '\n' ' '))"
	e2e_finish
fi

RCODES=(NOERROR FORMERR SERVFAIL NXDOMAIN NOTIMP REFUSED YXDOMAIN YXRRSET NXRRSET NOTAUTH NOTZONE
	RCODE11 RCODE12 RCODE13 RCODE14 RCODE15 BADVERS)

# Names the outcome of a `dnsraw -s` line: drop, or the rcode (extended by
# the OPT record when the reply has one).
outcome() { # summary
	local r=$1 rc
	case $r in
	timeout | closed | "") echo drop; return ;;
	short*) echo short; return ;;
	esac
	rc=$(sed -n 's/.* rcode=\([0-9]*\) .*/\1/p' <<<"$r")
	if [ -z "$rc" ]; then echo "garbled"; elif [ "$rc" -le 16 ]; then echo "${RCODES[$rc]}"; else echo "RCODE$rc"; fi
}

# check NAME ACCEPTED HEX [dnsraw flags]: ACCEPTED is "A|B|...", NSD's first.
check() {
	local name=$1 accepted=$2 hex=$3 flags=${4:-} r o ok=0 a
	# shellcheck disable=SC2086
	r=$("$RAW" -s -w 1500 $flags "$S_PORT" "$hex" 2>&1)
	o=$(outcome "$r")
	[ "${E2E_BAD_STRICT:-0}" = 1 ] && accepted=${accepted%%|*}
	for a in ${accepted//|/ }; do
		[ "$a" = "$o" ] && ok=1
	done
	if [ $ok = 1 ] && [ "$o" != drop ]; then
		# a reply: QR set, ID and opcode echoed
		local want="id=${hex:0:4} qr=1 opcode=$(((0x${hex:4:2} >> 3) & 15)) "
		if [[ $r != "$want"* ]]; then
			fail "$name: reply has wrong ID/QR/opcode: $r"
			return
		fi
	fi
	if [ $ok = 1 ]; then
		pass "$name: $o"
	else
		fail "$name: got $o, want ${accepted//|/ or } ($r)"
	fi
	echo "#   $r"
}

Q=03777777076578616d706c6503636f6d00 # www.example.com
H=12340100                           # ID 0x1234, RD
OPT=0000291000000000000000           # root OPT, 4096, version 0, no options
L59=$(printf '3b%0118d' 0 | sed 's/0/61/g' | cut -c1-120)
N300=$L59$L59$L59$L59$L59            # 5 labels of 59 = 300 octets + root

check "udp normal query" NOERROR "${H}0001000000000000${Q}00010001"
check "udp 5 octets (shorter than a header)" drop 1234010000
check "udp header only, QDCOUNT=1" "FORMERR|drop" "${H}000100000000000"0
check "udp cut mid-name" "FORMERR|drop" "${H}0001000000000000037777770765"
check "udp cut before QCLASS" "FORMERR|drop" "${H}0001000000000000${Q}0001"
check "udp QNAME pointer to itself" "FORMERR|drop" "${H}0001000000000000c00c00010001"
check "udp QNAME two-pointer loop" "FORMERR|drop" "${H}0001000000000000c00ec00c00010001"
check "udp QNAME forward pointer" "FORMERR|drop" "${H}0001000000000000c012000100010377777700"
check "udp QNAME pointer past end" "FORMERR|drop" "${H}0001000000000000c0ff00010001"
check "udp QNAME 300 octets" "FORMERR|drop" "${H}0001000000000000${N300}0000010001"
check "udp label type 0x40" "FORMERR|drop" "${H}000100000000000041037777770000010001"
check "udp label type 0x80" "FORMERR|drop" "${H}000100000000000081037777770000010001"
check "udp QDCOUNT=0" "FORMERR|drop" "${H}0000000000000000"
check "udp QDCOUNT=0 with a question" "FORMERR|drop" "${H}0000000000000000${Q}00010001"
check "udp QDCOUNT=2" "FORMERR|drop" "${H}0002000000000000${Q}00010001${Q}00010001"
check "udp QR=1 (a response)" drop "123481000001000000000000${Q}00010001"
check "udp opcode 5 (UPDATE)" NOTIMP "123428000001000000000000${Q}00010001"
check "udp opcode 2 (STATUS)" NOTIMP "123410000001000000000000${Q}00010001"
check "udp opcode 15" NOTIMP "123478000001000000000000${Q}00010001"
check "udp unknown class 0x1234" "REFUSED|NOTIMP" "${H}0001000000000000${Q}00011234"
check "udp class CH" "REFUSED|NOTIMP" "${H}0001000000000000${Q}00010003"
check "udp EDNS version 0" NOERROR "${H}0001000000000001${Q}00010001${OPT}"
check "udp EDNS version 1" BADVERS "${H}0001000000000001${Q}0001000100002910000001000000"00
check "udp two OPT records" FORMERR "${H}0001000000000002${Q}00010001${OPT}${OPT}"
check "udp OPT with a non-root owner" "FORMERR|NOERROR" "${H}0001000000000001${Q}00010001c00c00291000000000000000"
check "udp OPT in the answer section" FORMERR "${H}0001000100000000${Q}00010001${OPT}"
check "udp OPT option overruns RDATA" FORMERR "${H}0001000000000001${Q}00010001000029100000000000000a000a"
check "udp ANCOUNT=1 in a query" "FORMERR|NOERROR" "${H}0001000100000000${Q}00010001c00c000100010000003c0004c0000201"
check "udp trailing garbage" "NOERROR|FORMERR" "${H}0001000000000000${Q}00010001deadbeef"
check "udp TC=1 in a query" NOERROR "123403000001000000000000${Q}00010001"
check "udp Z bit set" NOERROR "123401400001000000000000${Q}00010001"
check "tcp normal query" NOERROR "${H}0001000000000000${Q}00010001" -t
check "tcp cut mid-name" "FORMERR|drop" "${H}0001000000000000037777770765" -t
check "tcp header only" "drop|FORMERR" "${H}000100000000000"0 -t
check "tcp length prefix longer than data" drop "0010${H}0001" "-t -r"
check "tcp QR=1 (a response)" drop "123481000001000000000000${Q}00010001" -t

if kill -0 "$S_PID" 2>/dev/null; then
	pass "$KIND still running after bad input"
else
	fail "$KIND died on bad input"
fi
for t in "" +tcp; do
	# shellcheck disable=SC2086
	if dig @127.0.0.1 -p "$S_PORT" www.example.com A +tries=1 +time=2 $t 2>/dev/null | has 'status: NOERROR'; then
		pass "normal query ${t:-+udp} answered afterwards"
	else
		fail "normal query ${t:-+udp} not answered afterwards"
	fi
done
server_stop S

# A zone with a syntax error: exit status 1 and "file:line:" on stderr.
if [ "$KIND" = antidote ]; then
	bad=$E2E_TMP/bad.zone
	printf '%s\n' '$ORIGIN example.com.' '$TTL 3600' \
		'@ IN SOA ns1 host 1 2 3 4 5' '  IN NS ns1' 'ns1 IN A 192.0.2.300' >"$bad"
	bad2=$E2E_TMP/bad2.zone
	printf '%s\n' '$ORIGIN example.com.' '@ IN SOA ns1 host 1 2 3 4 5' \
		'www IN BOGUSTYPE 1.2.3.4' >"$bad2"
	for spec in "$bad:5" "$bad2:3"; do
		file=${spec%:*} line=${spec##*:}
		port=$(pick_port)
		timeout 20 "$ANTIDOTE" serve --listen "127.0.0.1:$port" --zone "example.com=$file" \
			>"$E2E_TMP/badzone.out" 2>"$E2E_TMP/badzone.err" </dev/null
		rc=$?
		if [ $rc -eq 1 ] && grep -qF "$file:$line:" "$E2E_TMP/badzone.err"; then
			pass "zone syntax error $(basename "$file"):$line: exit 1 with file:line"
		else
			fail "zone syntax error $(basename "$file"):$line: exit $rc, stderr: $(head -c 300 "$E2E_TMP/badzone.err")"
		fi
	done
	port=$(pick_port)
	timeout 20 "$ANTIDOTE" serve --listen "127.0.0.1:$port" --zone "example.com=$E2E_TMP/missing.zone" \
		>/dev/null 2>"$E2E_TMP/missing.err" </dev/null
	rc=$?
	if [ $rc -eq 1 ] && grep -qF "missing.zone" "$E2E_TMP/missing.err"; then
		pass "missing zone file: exit 1 naming the file"
	else
		fail "missing zone file: exit $rc, stderr: $(head -c 300 "$E2E_TMP/missing.err")"
	fi
else
	echo "# zone syntax-error checks run only against antidote"
fi
e2e_finish
