#!/usr/bin/env bash
# bench/http3.sh: HTTP/3 beside HTTP/2 over TLS, one wasmserve serving both
# (--http3), in one run. Prints, for each protocol, the median over ROUNDS
# of req/s and p99, and the server's CPU time per request. The client is
# bench/protoload (Go's HTTP/2 client, quic-go's HTTP/3 client), bounded in
# requests: h2load and wrk do not speak HTTP/3.
#
#   bash bench/http3.sh                          # 3 rounds of 20000 requests, 16 workers on 4 connections
#   ROUNDS=5 REQUESTS=50000 CONC=32 bash bench/http3.sh
#
# Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-20000}
CONC=${CONC:-16}
CONNS=${CONNS:-4}
ISOLATES=${ISOLATES:-2}
OUT=${OUT:-bench/out}
mkdir -p "$OUT" bin/bench

go build -o bin/wasmserve ./cmd/wasmserve
go build -o bin/bench/protoload ./bench/protoload
WAT=guest-examples/hello-wat/hello.wasm
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; kill $(jobs -p) 2>/dev/null || true' EXIT
bin/wasmserve certs --out "$TMP/certs" localhost 127.0.0.1 >/dev/null

pf="$TMP/port"
WASMSERVE_PORT_FILE="$pf" bin/wasmserve serve --address 127.0.0.1 --port 0 --no-banner --access-log=false \
  --isolates "$ISOLATES" --no-cache --tls-cert "$TMP/certs/server.pem" --tls-key "$TMP/certs/server-key.pem" \
  --http3 "$WAT" >/dev/null 2>"$OUT/http3-server.log" &
PID=$!
for _ in $(seq 600); do [ -s "$pf" ] && break; sleep 0.05; done
[ -s "$pf" ] || { echo "http3.sh: server did not start" >&2; cat "$OUT/http3-server.log" >&2; exit 1; }
URL="https://127.0.0.1:$(cat "$pf")/bench"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

: >"$OUT/http3.results"
for round in $(seq "$ROUNDS"); do
  for proto in h2 h3; do
    t0=$(cpu_ticks "$PID")
    line=$(bin/bench/protoload -proto "$proto" -cacert "$TMP/certs/ca.pem" -n "$REQUESTS" -c "$CONC" -conns "$CONNS" "$URL")
    t1=$(cpu_ticks "$PID")
    reqs=$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$line")
    echo "$line cpu_us=$(( (t1 - t0) * TICK_US / reqs ))" >>"$OUT/http3.results"
  done
done
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true

# The median of each figure over the rounds.
median() { # median PROTO KEY
  grep "^$1 " "$OUT/http3.results" | tr ' ' '\n' | sed -n "s/^$2=//p" | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
printf '%-6s %10s %10s %10s %14s\n' proto req/s p50_us p99_us cpu_us/req
for proto in h2 h3; do
  printf '%-6s %10s %10s %10s %14s\n' "$proto" "$(median $proto rps)" "$(median $proto p50_us)" \
    "$(median $proto p99_us)" "$(median $proto cpu_us)"
done
