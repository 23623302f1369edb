#!/usr/bin/env bash
# bench/ledger.sh: where a request's server CPU goes, step by step, for the
# WAT hello in wasmserve and for the native hello, under the same load.
# Each server is loaded with wrk (keep-alive, 127.0.0.1) while a CPU
# profile is taken over SECONDS seconds; each step's CPU (its cumulative
# profile time) is divided by the requests served in that window. The
# steps overlap (a step's figure includes the steps inside it); under
# load everything costs several times what an in-process benchmark says,
# since caches are cold between requests: these are the figures that count.
#
#   bash bench/ledger.sh                      # wasmserve's defaults, metrics on (--admin)
#   FLAGS="--access-log=false" bash bench/ledger.sh
#   GUEST=bin/guests/hello.wasm bash bench/ledger.sh
#
# Needs wrk. Run it with nothing else on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_=${SECONDS_PROFILE:-6}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
GUEST=${GUEST:-guest-examples/hello-wat/hello.wasm}
ADMIN=127.0.0.1:${ADMIN_PORT:-9199}
OUT=${OUT:-bench/out}
mkdir -p "$OUT" bin/bench
command -v wrk >/dev/null || { echo "ledger.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
go build -o bin/wasmserve ./cmd/wasmserve
go build -o bin/bench/native ./bench/native
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

# profile NAME BINARY CMD...: serve, load, profile; sets RPS.
profile() {
  local name=$1 bin=$2; shift 2
  local pf="$OUT/ledger-$name.port"
  rm -f "$pf"
  WASMSERVE_PORT_FILE="$pf" "$@" >/dev/null 2>"$OUT/ledger-$name.log" &
  local pid=$!
  for _ in $(seq 200); do [ -s "$pf" ] && break; sleep 0.05; done
  [ -s "$pf" ] || { echo "ledger.sh: $name did not start" >&2; cat "$OUT/ledger-$name.log" >&2; exit 1; }
  local port; port=$(cat "$pf")
  wrk -t"$THREADS" -c"$CONNS" -d2s "http://127.0.0.1:$port/warm" >/dev/null
  wrk -t"$THREADS" -c"$CONNS" -d"$((SECONDS_ + 2))s" "http://127.0.0.1:$port/bench" >"$OUT/ledger-$name.wrk" &
  local wrk=$!
  sleep 1
  curl -sf -o "$OUT/ledger-$name.cpu" "http://$ADMIN/debug/pprof/profile?seconds=$SECONDS_"
  wait "$wrk"
  RPS=$(awk '/^Requests\/sec/ {print $2}' "$OUT/ledger-$name.wrk")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  go tool pprof -top -cum -nodecount=100000 -nodefraction=0 -edgefraction=0 "$bin" "$OUT/ledger-$name.cpu" 2>/dev/null >"$OUT/ledger-$name.top"
  TOTAL=$(awk '/^Duration:/ { for (i = 1; i <= NF; i++) if ($i == "samples") { v = $(i+2); u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v); print (u == "ms" ? v / 1000 : v) } }' "$OUT/ledger-$name.top")
}

# step FILE REGEX: the cumulative seconds of the first function matching REGEX.
step() {
  awk -v re="$2" 'NR > 5 && $6 ~ re { v = $4; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v); print (u == "ms" ? v / 1000 : v); found = 1; exit }
    END { if (!found) print 0 }' "$1"
}

row() { # label seconds requests
  awk -v l="$1" -v s="$2" -v n="$3" 'BEGIN { printf "  %-74s %8.2f us\n", l, s / n * 1e6 }'
}

profile native bin/bench/native bin/bench/native -pprof "$ADMIN"
NREQ=$(awk -v r="$RPS" -v s="$SECONDS_" 'BEGIN { print r * s }')
NTOP=$OUT/ledger-native.top NTOTAL=$TOTAL NRPS=$RPS
# shellcheck disable=SC2086
profile wasmserve bin/wasmserve bin/wasmserve serve --no-banner --no-url --address 127.0.0.1 --port 0 \
  --log-level error --isolates 2 --admin "$ADMIN" ${FLAGS:-} "$GUEST"
WREQ=$(awk -v r="$RPS" -v s="$SECONDS_" 'BEGIN { print r * s }')
WTOP=$OUT/ledger-wasmserve.top

echo "# ledger: CPU per request under load (wrk -t$THREADS -c$CONNS), ${SECONDS_} s profiles, $(nproc) CPUs"
echo "native:    $NRPS req/s"
row "all server CPU" "$NTOTAL" "$NREQ"
row "net/http: read and parse the request" "$(step "$NTOP" '^net/http.\(\*conn\).readRequest$')" "$NREQ"
row "net/http: write the response (syscall)" "$(step "$NTOP" '^net/http.\(\*response\).finishRequest$')" "$NREQ"
row "the handler" "$(step "$NTOP" '^main.Hello$')" "$NREQ"
row "garbage collection (background)" "$(step "$NTOP" '^runtime.gcBgMarkWorker$')" "$NREQ"
echo "wasmserve: $RPS req/s, $GUEST ${FLAGS:-}"
row "all server CPU" "$TOTAL" "$WREQ"
row "net/http: read and parse the request" "$(step "$WTOP" '^net/http.\(\*conn\).readRequest$')" "$WREQ"
row "net/http: write the response (syscall)" "$(step "$WTOP" '^net/http.\(\*response\).finishRequest$')" "$WREQ"
row "server front (request id, recorder, log, metrics, handler)" "$(step "$WTOP" 'host/server.\(\*Server\).serveHTTP$')" "$WREQ"
row "  handler: pool, deadlines, guest call" "$(step "$WTOP" 'wasmserve/host.\(\*Handler\).ServeHTTP$')" "$WREQ"
row "    pool acquire" "$(step "$WTOP" 'runtimepool.\(\*Pool\[.*\]\).Acquire$')" "$WREQ"
row "    pool release" "$(step "$WTOP" 'runtimepool.\(\*Pool\[.*\]\).Release$')" "$WREQ"
row "    connection deadlines" "$(step "$WTOP" 'host.\(\*Handler\).setDeadlines$')" "$WREQ"
row "    guest call (wazero, the ABI's host functions)" "$(step "$WTOP" 'httpwasm.\(\*Guest\).Handle$')" "$WREQ"
row "      status and headers to net/http (its header copy included)" "$(step "$WTOP" 'httpwasm.\(\*exchange\).commit$')" "$WREQ"
row "    guest code (JIT; the profile counts it apart from its caller)" "$(step "$WTOP" '^runtime._ExternalCode$')" "$WREQ"
row "  server headers on the response (recorder; net/http's header copy included)" "$(step "$WTOP" 'server.\(\*recorder\).WriteHeader$')" "$WREQ"
row "  request id" "$(step "$WTOP" 'server.requestIDOf$')" "$WREQ"
row "  metrics" "$(step "$WTOP" 'observe.\(\*Metrics\).ObserveRequest$')" "$WREQ"
row "  access log" "$(step "$WTOP" 'server.\(\*Server\).logAccess$')" "$WREQ"
row "connection wrappers: request smuggling scan" "$(awk -v a="$(step "$WTOP" 'server.\(\*lengthScanConn\).Read$')" -v b="$(step "$WTOP" '^net.\(\*conn\).Read$')" 'BEGIN { print a - b }')" "$WREQ"
row "garbage collection (background)" "$(step "$WTOP" '^runtime.gcBgMarkWorker$')" "$WREQ"
awk -v nt="$NTOTAL" -v nn="$NREQ" -v wt="$TOTAL" -v wn="$WREQ" 'BEGIN {
  d = wt / wn * 1e6 - nt / nn * 1e6
  printf "wasmserve over native: %.2f us a request; goal <= 1.5 us of host work beyond native (the guest call aside): see the rows\n", d }'
