#!/usr/bin/env bash
# zonefile_bench.sh — generates a zone of N records (default 1,000,000; a mix
# of A 50%, AAAA 20%, MX 10%, TXT 10%, CNAME 10%, with owner-omitted lines,
# explicit TTLs and comments) with awk and times the parser on it.
#   usage: bash tests/tools/zonefile_bench.sh [N] [BUILD]
# Needs BUILD/tools/zonefile_bench (make BUILD=... builds it). Not a test:
# prints timings only.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}
build=${2:-${BUILD:-build}}
tool=$build/tools/zonefile_bench
[ -x "$tool" ] || { echo "missing $tool (run make BUILD=$build)" >&2; exit 1; }
dir=$(mktemp -d /tmp/zonefile_bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
zone=$dir/bench.zone
awk -v n="$n" 'BEGIN {
	print "$ORIGIN bench.test."
	print "$TTL 3600"
	print "@ IN SOA ns1 hostmaster ( 2024010101 3600 900 604800 300 ) ; soa"
	print "@ IN NS ns1"
	print "ns1 IN A 198.19.255.1"
	k = 3
	for (i = 0; k < n; i++) {
		m = i % 10
		if (m < 5)       printf "h%d\tIN\tA\t198.18.%d.%d\n", i, int(i / 256) % 256, i % 256
		else if (m < 7)  printf "h%d 300 IN AAAA 2001:db8::%x:%x\n", i, int(i / 65536), i % 65536
		else if (m == 7) printf "h%d\tMX\t10 mail%d ; mail\n", i, i % 100
		else if (m == 8) printf "h%d TXT \"v=spf1 ip4:198.18.%d.0/24 -all\" \"x\"\n", i, i % 256
		else             printf "h%d CNAME h%d\n", i, i - 1
		k++
		if (k < n && m == 0) { printf "\tA\t198.19.%d.%d\n", int(i / 256) % 256, i % 256; k++ }
	}
}' > "$zone"
echo "zone: $(wc -l < "$zone") lines, $(du -h "$zone" | cut -f1)"
for run in 1 2 3; do
	/usr/bin/time -f "run $run: %e s wall, %M KiB max RSS" "$tool" "$zone" bench.test.
done
