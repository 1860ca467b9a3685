#!/usr/bin/env bash
# zonefile_vs_nsd.sh — the zone-file parser reads zones exactly as NSD does.
#
# For each zone (the test zones of tests/data/zones plus small zones written
# here for master-file corner cases: TTL defaults, $TTL/$ORIGIN/$INCLUDE,
# omitted owner/TTL/class, parentheses, quoting, escapes, RFC 3597), the
# records printed by $TOOLS/zonecat and by `nsd-checkzone -p` are both put
# through `ldns-read-zone -z -U NULL` (sorted, canonical, every RDATA in
# `\# len hex`) and must be identical. Broken zones must be refused by both,
# and ours must name the expected file:line.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init

ZC=$TOOLS/zonecat
for t in nsd-checkzone ldns-read-zone; do
	command -v $t >/dev/null || { fail "$t not installed"; e2e_finish; }
done
[ -x "$ZC" ] || { fail "missing $ZC"; e2e_finish; }

canon() { ldns-read-zone -z -U NULL /dev/stdin 2>/dev/null; }

# same ORIGIN FILE LABEL
same() {
	local o=$1 f=$2 label=$3 a b
	a=$E2E_TMP/nsd.out b=$E2E_TMP/ours.out
	if ! nsd-checkzone -p "$o" "$f" 2>"$E2E_TMP/nsd.err" | canon >"$a"; then :; fi
	if grep -q 'error' "$E2E_TMP/nsd.err"; then
		fail "$label: NSD refuses it: $(grep -m1 error "$E2E_TMP/nsd.err")"
		return
	fi
	if ! "$ZC" "$f" "$o" 2>"$E2E_TMP/ours.err" | canon >"$b" || [ ! -s "$b" ]; then
		fail "$label: zonecat: $(cat "$E2E_TMP/ours.err")"
		return
	fi
	if [ ! -s "$a" ]; then
		fail "$label: empty output from NSD"
	elif diff -u "$a" "$b" >"$E2E_TMP/diff"; then
		pass "$label: $(wc -l <"$b") records identical to nsd-checkzone"
	else
		fail "$label: differs from nsd-checkzone"
		head -20 "$E2E_TMP/diff"
	fi
}

# refused ORIGIN FILE LABEL WANT-PREFIX
refused() {
	local o=$1 f=$2 label=$3 want=$4 msg
	if nsd-checkzone "$o" "$f" >/dev/null 2>&1; then
		fail "$label: NSD accepts it (test zone is not broken)"
		return
	fi
	if msg=$("$ZC" "$f" "$o" 2>&1 >/dev/null); then
		fail "$label: accepted by zonecat"
		return
	fi
	msg=$(tail -1 <<<"$msg")
	if [[ $msg == "$want"* ]]; then
		pass "$label: refused by both ('$msg')"
	else
		fail "$label: got '$msg', want '$want...'"
	fi
}

for z in "$E2E_ZONES"/*.zone; do
	n=$(basename "$z" .zone)
	same "$n." "$z" "data/$n"
done

D=$E2E_TMP/z
mkdir -p "$D/sub"
SOA='@ SOA ns hostmaster 1 7200 900 1209600 300'

cat >"$D/ttl.zone" <<EOF
\$ORIGIN ex.test.
$SOA
@ NS ns
ns A 192.0.2.1
a 300 A 192.0.2.2
b A 192.0.2.3
c IN 60 A 192.0.2.4
  AAAA 2001:db8::4
\$TTL 1h30m
d A 192.0.2.5
e 1W2d IN A 192.0.2.6
  IN 5 AAAA 2001:db8::6
\$TTL 0
f A 192.0.2.7
g 1h30 TXT "x"
EOF
same ex.test. "$D/ttl.zone" "TTL defaults and units"

cat >"$D/layout.zone" <<'EOF'
$ORIGIN ex.test.
@ IN SOA ns hostmaster ( 2024010101 ; serial
		7200        ; refresh
		900 1209600
		300 )       ; minimum
	NS	ns
	NS	ns.other.test.
ns	A	192.0.2.1
www	IN	A	( 192.0.2.2 )
txt	TXT	"a;b" "c d" "q\"x" plain "(" "" \059semi "\255\000"
	TXT	( "one"
		  "two" ; comment inside
		)
esc\.dot	A	192.0.2.3
\065bc		A	192.0.2.4
sp\ ace		A	192.0.2.5
*.wild		A	192.0.2.6
mx	MX	10 mail
	MX	20 mail.other.test.
srv	SRV	0 5 5060 sip
$ORIGIN sub.ex.test.
@	A	192.0.2.7
x	A	192.0.2.8
$ORIGIN ex.test.
unk	TYPE65280 \# 3 abcdef
num	TYPE1	192.0.2.9
hex	A	\# 4 c000020a
cls	CLASS1	A	192.0.2.11
EOF
printf 'crlf A 192.0.2.12\r\n\tAAAA 2001:db8::12\r\n' >>"$D/layout.zone"
same ex.test. "$D/layout.zone" "layout: parens, comments, quotes, escapes, omitted owner/class, RFC 3597"

# $INCLUDE: NSD resolves the file name from its working directory, we from
# the including file's directory: run NSD from $D. NSD wants an absolute
# origin in $INCLUDE, which we accept too.
cat >"$D/inc.zone" <<EOF
\$ORIGIN ex.test.
$SOA
@ NS ns
ns A 192.0.2.1
x A 192.0.2.2
\$INCLUDE sub/part.zone foo.ex.test.
  A 192.0.2.3
y A 192.0.2.4
\$INCLUDE sub/part2.zone
  A 192.0.2.5
EOF
cat >"$D/sub/part.zone" <<'EOF'
$TTL 77
in1 A 192.0.2.10
$ORIGIN bar.ex.test.
in2 A 192.0.2.11
EOF
printf '  AAAA 2001:db8::99\nw A 192.0.2.12\n' >"$D/sub/part2.zone"
(cd "$D" && same ex.test. inc.zone '$INCLUDE: origin, restored origin, $TTL and owner carry-over')

bad() { # NAME WANT-LINE TEXT
	printf '%s\n' "\$ORIGIN ex.test." "$SOA" "$3" >"$D/$1.zone"
	refused ex.test. "$D/$1.zone" "broken: $1" "$D/$1.zone:$2: "
}
bad unknown_type 3 'x FOO 1'
bad bad_ipv4 4 $'a A 192.0.2.1\nb A 1.2.3'
bad open_paren 3 $'a ( A 192.0.2.1\nb A 192.0.2.2'
bad close_paren 4 $'a A 192.0.2.1\nb A 192.0.2.2 )'
bad class_ch 3 'a CH TXT "x"'
bad bad_ttl 3 'a 1x A 192.0.2.1'
bad bad_dollar_ttl 3 '$TTL 1x'
bad unterminated 3 $'a TXT "abc\n\n'
bad label_too_long 3 "$(printf 'x%.0s' {1..64}) A 192.0.2.1"
bad name_too_long 3 "$(printf 'abcd.%.0s' {1..60}) A 192.0.2.1"
bad missing_include 3 '$INCLUDE no-such-file.zone'

e2e_finish
