#!/usr/bin/env bash
# gen-zone — writes the benchmark zone (10,000 names) and the dnsperf query file.
#
# usage: bash bench/gen-zone.sh OUTDIR [NAMES]
#   OUTDIR/bench.test.zone   zone "bench.test." : SOA, NS, ns1/mail A, and
#                            h0..h(N-1), each with an A in 198.18.0.0/15
#                            (RFC 2544 benchmarking range, data only); every
#                            10th (i%10==7) also has an AAAA in 2001:db8::/32,
#                            every 20th (i%20==9) also has an MX to mail.
#   OUTDIR/queries.txt       dnsperf input: every name once, in order, typed
#                            AAAA when i%10==7 (10%), MX when i%20==9 (5%),
#                            A otherwise (85%); after every 20th name one query
#                            for a name that does not exist (nx<i>, A) →
#                            NXDOMAIN. 10,500 lines for N=10,000: 80.95% A,
#                            9.52% AAAA, 4.76% MX, 4.76% NXDOMAIN.
# Deterministic (no randomness): the same files for every server and run.
set -euo pipefail
out=${1:?usage: gen-zone.sh OUTDIR [NAMES]}
n=${2:-10000}
mkdir -p "$out"
awk -v n="$n" -v zone="$out/bench.test.zone" -v q="$out/queries.txt" 'BEGIN {
	print "$ORIGIN bench.test." > zone
	print "$TTL 3600" > zone
	print "@\tIN\tSOA\tns1.bench.test. hostmaster.bench.test. 2024010101 3600 900 604800 300" > zone
	print "@\tIN\tNS\tns1.bench.test." > zone
	print "ns1\tIN\tA\t198.19.255.1" > zone
	print "mail\tIN\tA\t198.19.255.2" > zone
	for (i = 0; i < n; i++) {
		printf "h%d\tIN\tA\t198.18.%d.%d\n", i, int(i / 256) % 256, i % 256 > zone
		if (i % 10 == 7)
			printf "h%d\tIN\tAAAA\t2001:db8::%x:%x\n", i, int(i / 65536), i % 65536 > zone
		if (i % 20 == 9)
			printf "h%d\tIN\tMX\t10 mail.bench.test.\n", i > zone
		t = (i % 10 == 7) ? "AAAA" : (i % 20 == 9) ? "MX" : "A"
		printf "h%d.bench.test. %s\n", i, t > q
		if (i % 20 == 19)
			printf "nx%d.bench.test. A\n", i > q
	}
}'
