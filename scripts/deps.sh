#!/usr/bin/env bash
# Installs the Debian packages that building, testing and benchmarking need.
# Idempotent: does nothing when everything is present; runs `apt-get update`
# first only when something is missing (a fresh machine's lists are empty).
set -euo pipefail
pkgs=(
  build-essential clang libclang-rt-14-dev libcmocka-dev   # build, sanitizers, libFuzzer, unit tests
  dnsutils knot-dnsutils ldnsutils                         # dig, kdig, ldns-signzone/keygen
  nsd knot unbound dnsmasq-base                            # reference peers for e2e tests, the lab and benchmarks
  dnsperf iproute2 procps util-linux libsqlite3-dev        # load, namespaces, taskset, probe --sqlite
  libssl-dev openssl                                       # DNS over TLS (resolve upstreams; test certificates)
)
# `deps.sh bench` adds the resolvers only the benchmarks compare against.
[ "${1:-}" = bench ] && pkgs+=(pdns-recursor knot-resolver)
missing=()
for p in "${pkgs[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = 'install ok installed' ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts these daemons on install; the tests start their own copies.
for svc in nsd knot unbound pdns-recursor kresd@1; do
  (systemctl disable --now "$svc" || service "$svc" stop || true) >/dev/null 2>&1
done
exit 0
