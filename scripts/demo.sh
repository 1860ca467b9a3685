#!/usr/bin/env bash
# make demo: until `antidote lab jan21` lands (issue 4), start the
# authoritative server on an example zone and ask it a few questions.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/antidote}
if "$BIN" lab --help >/dev/null 2>&1; then
  exec "$BIN" lab jan21
fi
port=$((10000 + RANDOM % 22000))
"$BIN" serve --listen 127.0.0.1:$port --listen "[::1]:$port" --zone examples/example.com.zone &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for i in $(seq 50); do
  dig +short +time=1 +tries=1 @127.0.0.1 -p $port example.com SOA >/dev/null 2>&1 && break
  sleep 0.1
done
q() { echo; echo "\$ dig @127.0.0.1 -p $port $*"; dig +nocmd +nostats +noquestion @127.0.0.1 -p $port "$@" | sed '/^$/d'; }
q www.example.com A
q ftp.example.com AAAA
q alice.users.example.com A
q host.shop.example.com A +norecurse
q nothere.example.com A
q www.example.org A
q -6 www.example.com AAAA +tcp @::1
