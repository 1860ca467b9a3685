#!/usr/bin/env bash
# msg_gen.sh — regenerates tests/fuzz/corpus/msg/ (fuzz_msg's seeds): signs
# two small zones (NSEC and NSEC3) with ldns-signzone, serves them with NSD
# on 127.0.0.1, and runs tests/fuzz/msg_gen.c against it.
#   BUILD=build/msg bash tests/fuzz/msg_gen.sh     (needs the library built)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
out=tests/fuzz/corpus/msg
tmp=$(mktemp -d /tmp/msg_gen.XXXXXX)
trap 'kill $(cat $tmp/nsd.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$tmp"' EXIT
cc -std=gnu11 -O1 -D_GNU_SOURCE -Isrc -o "$tmp/msg_gen" tests/fuzz/msg_gen.c "$BUILD/libantidote.a"

cat >"$tmp/example.com" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@	SOA	ns1 hostmaster 2024010101 7200 3600 1209600 300
	NS	ns1
	NS	ns2.example.net.
	A	192.0.2.1
	AAAA	2001:db8::1
	MX	10 mail
	MX	20 mail.example.net.
	TXT	"v=spf1 -all" "second string"
	CAA	0 issue "ca.example.net"
	NAPTR	100 10 "S" "SIP+D2U" "" _sip._udp
ns1	A	192.0.2.53
mail	A	192.0.2.25
www	A	192.0.2.80
	AAAA	2001:db8::80
	HINFO	"PC" "Linux"
	SSHFP	1 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
_443._tcp.www	TLSA	3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
_sip._udp	SRV	10 60 5060 www
alias	CNAME	www
old	DNAME	new.example.net.
*.wild	A	192.0.2.99
sub	NS	ns.sub
	DS	12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.sub	A	192.0.2.54
EOF
cat >"$tmp/example.net" <<'EOF'
$ORIGIN example.net.
$TTL 600
@	SOA	ns2 hostmaster 1 7200 3600 1209600 300
	NS	ns2
	MX	5 mx
ns2	A	198.51.100.53
mx	AAAA	2001:db8:1::25
EOF
(cd "$tmp" &&
 k1=$(ldns-keygen -a ECDSAP256SHA256 -k example.com) &&
 z1=$(ldns-keygen -a ECDSAP256SHA256 example.com) &&
 ldns-signzone -e 20400101000000 -i 20240101000000 example.com "$k1" "$z1" &&
 k2=$(ldns-keygen -a ED25519 -k example.net) &&
 ldns-signzone -n -e 20400101000000 -i 20240101000000 example.net "$k2") >/dev/null

port=$((10000 + RANDOM % 22000))
cat >"$tmp/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1
	port: $port
	username: ""
	chroot: ""
	zonesdir: "$tmp"
	database: ""
	pidfile: "$tmp/nsd.pid"
	xfrdfile: "$tmp/xfrd.state"
	zonelistfile: "$tmp/zone.list"
	logfile: "$tmp/nsd.log"
	nsid: "ascii_ns1.lab"
	hide-version: yes
remote-control:
	control-enable: no
zone:
	name: example.com
	zonefile: example.com.signed
	provide-xfr: 127.0.0.1 NOKEY
zone:
	name: example.net
	zonefile: example.net.signed
	provide-xfr: 127.0.0.1 NOKEY
EOF
nsd -c "$tmp/nsd.conf"
for i in $(seq 50); do kdig -p "$port" @127.0.0.1 example.com SOA +short +time=1 >/dev/null 2>&1 && break; sleep 0.1; done
mkdir -p "$out"
"$tmp/msg_gen" "$port" "$out"
