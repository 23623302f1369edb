#!/usr/bin/env bash
# bench/load.sh: wasmserve against a native net/http hello server, and the
# same WAT hello on another host (http-wasm-host-go, bench/hostgo), on this
# machine, in one run. Prints req/s, p50 and p99 of each and the ratio to
# native; middleware mode against a native reverse proxy; start-up time to
# the first 200 (cold and warm compilation cache); and resident memory per
# idle isolate. Every goal is printed met or NOT MET, and written to
# $OUT/goals (medians over the rounds):
#   - wat: req/s >= 0.95x native, p99 <= 2x native
#   - host work: wat's server CPU per request <= native's + 1.5 us
#   - access log: the WAT hello loses <= 3 % req/s with it on (paired rounds)
#   - other host: wat req/s >= 1.25x hostgo (http-wasm-host-go, same guest)
#   - go: req/s >= 0.75x native, p99 <= 2x native
#   - middleware: proxy-wasmserve req/s >= 1.0x proxy-native, p99 <= 1.5x
#   - and the fresh-isolate, CGI, component, start-up and memory targets
#
#   bash bench/load.sh                # defaults: 3 rounds of 5 s, 16 connections
#   ROUNDS=5 DURATION=10s WARMUP=2s bash bench/load.sh
#   ONLY="native wat wat-nolog hostgo" bash bench/load.sh   # just these configs, then stop
#   ONLY="proxy" bash bench/load.sh                         # just middleware mode
#
# Needs wrk (Debian package wrk). Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
ISOLATES=${ISOLATES:-2}
OUT=${OUT:-bench/out}
mkdir -p "$OUT" bin/bench
command -v wrk >/dev/null || { echo "load.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

go build -o bin/wasmserve ./cmd/wasmserve
go build -o bin/bench/native ./bench/native
go build -o bin/bench/hostgo ./bench/hostgo
go build -o bin/bench/startup ./bench/startup
GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/guests/hello.wasm ./guest-examples/hello
WAT=guest-examples/hello-wat/hello.wasm
GOHELLO=bin/guests/hello.wasm
GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/guests/echo.wasm ./guest-examples/echo
GOECHO=bin/guests/echo.wasm
# The CGI hellos: a WASI command run once per request.
GOOS=wasip1 GOARCH=wasm go build -o bin/guests/cgi-go.wasm ./guest-examples/cgi-go
CGIC=guest-examples/cgi-c/hello.wasm
CGIGO=bin/guests/cgi-go.wasm
CACHE=$(mktemp -d)
trap 'rm -rf "$CACHE"; kill $(jobs -p) 2>/dev/null || true' EXIT

# serve NAME CMD...: start a server with a port file; sets PID and PORT.
serve() {
  local pf="$OUT/$1.port"; shift
  rm -f "$pf"
  WASMSERVE_PORT_FILE="$pf" "$@" >/dev/null 2>"$OUT/server.log" &
  PID=$!
  for _ in $(seq 600); do [ -s "$pf" ] && break; sleep 0.05; done
  [ -s "$pf" ] || { echo "load.sh: server did not start: $*" >&2; cat "$OUT/server.log" >&2; exit 1; }
  PORT=$(cat "$pf")
  curl -sf "http://127.0.0.1:$PORT/warm" >/dev/null
}

stop() { kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }

# to_us VALUE: wrk latency ("812.00us", "1.23ms", "1.01s") in microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "ms") n *= 1000; else if (u == "s") n *= 1000000
    printf "%.0f", n }'
}

# cpu_ticks PID: user+system CPU time of PID so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# drive NAME: run wrk against $PORT; appends "name rps p50 p99 cpu_us" to
# results, cpu_us being the server's CPU time per request (user+system,
# from /proc): less at the mercy of the scheduler than req/s, since wrk
# shares the two cores.
drive() {
  local out
  # Warm-up, the same for every config: a Go guest grows its heap over its
  # first thousands of requests, which is start-up, not steady state.
  # WARMUP=0 skips it; wrk takes whole units only (1s, not 0.5s).
  case ${WARMUP:-1s} in
    0 | 0s) ;;
    *) wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP:-1s}" "http://127.0.0.1:$PORT/warm" >/dev/null ||
      { echo "load.sh: wrk failed to warm $1 up (WARMUP=${WARMUP:-1s}; whole units: 1s, 2s, 1m)" >&2; exit 1; } ;;
  esac
  local t0 t1
  t0=$(cpu_ticks "$PID")
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$PORT/bench") ||
    { echo "load.sh: wrk failed on $1 (DURATION=$DURATION; whole units: 1s, 2s, 1m)" >&2; exit 1; }
  t1=$(cpu_ticks "$PID")
  local rps p50 p99 reqs cpu
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  cpu=$(awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v n="$reqs" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  p50=$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  if grep -q "Non-2xx" <<<"$out"; then echo "load.sh: $1 answered non-2xx:" >&2; echo "$out" >&2; exit 1; fi
  echo "$1 $rps $p50 $p99 $cpu" >>"${OUT_RESULTS:-$OUT/results}"
  printf '  %-22s %10.0f req/s  p50 %6d us  p99 %6d us  cpu %6.2f us/req\n' "$1" "$rps" "$p50" "$p99" "$cpu"
}

WS0=(bin/wasmserve serve --no-banner --no-url --address 127.0.0.1 --port 0 --cache-dir "$CACHE" --log-level error)
WS=("${WS0[@]}" --isolates "$ISOLATES")
declare -A CONFIGS=(
  [native]="bin/bench/native"
  [wat]="${WS[*]} $WAT"
  [go]="${WS[*]} $GOHELLO"
  # The same guest on http-wasm-host-go, the library's defaults.
  [hostgo]="bin/bench/hostgo $WAT"
)
ORDER=(native wat)
# Read once: grep -q on a pipe would end the writer early, a failure under pipefail.
HELP=$(bin/wasmserve serve --help 2>&1)
if grep -q -- --access-log <<<"$HELP"; then
  # The access log is on by default: the same server without it, run
  # right after wat so that the pair sees the same machine.
  CONFIGS[wat-nolog]="${WS[*]} --access-log=false $WAT"
  ORDER+=(wat-nolog)
fi
# Right after wat, so that wat against hostgo sees the same machine.
ORDER+=(hostgo go)
CONFIGS[cgi-c]="${WS[*]} $CGIC"
CONFIGS[cgi-go]="${WS[*]} $CGIGO"
ORDER+=(cgi-c cgi-go)
if grep -q -- --max-requests-per-isolate <<<"$HELP"; then
  CONFIGS[wat-fresh]="${WS[*]} --max-requests-per-isolate 1 $WAT"
  CONFIGS[go-fresh]="${WS[*]} --max-requests-per-isolate 1 $GOHELLO"
  ORDER+=(wat-fresh go-fresh)
fi

# wanted NAME: whether this run measures NAME (ONLY is empty or lists it).
wanted() { [ -z "${ONLY:-}" ] || case " $ONLY " in *" $1 "*) true ;; *) false ;; esac; }

# The JavaScript router component (componentize-js, a fresh instance per
# request), when componentize-js is installed (NPMTOOLS, as .ci/run sets)
# and the run measures it: building it takes a while.
JS=bin/guests/js-router.wasm
NPMTOOLS=${NPMTOOLS:-/tmp/npmtools}
if ! wanted js; then
  JS=""
elif [ -x "$NPMTOOLS/node_modules/.bin/componentize-js" ]; then
  if [ ! -s "$JS" ] || [ guest-examples/js-router/router.js -nt "$JS" ]; then
    NPMTOOLS=$NPMTOOLS sh guest-examples/js-router/build.sh "$JS" >/dev/null
  fi
  CONFIGS[js]="${WS[*]} $JS"
  ORDER+=(js)
else
  echo "load.sh: componentize-js not found in $NPMTOOLS: no component figures" >&2
  JS=""
fi

# EXTRA="go-before=/tmp/hello-before.wasm ...": more guests, served like go,
# such as a build of an earlier commit for a before/after in the same run.
for extra in ${EXTRA:-}; do
  CONFIGS[${extra%%=*}]="${WS[*]} ${extra#*=}"
  ORDER+=("${extra%%=*}")
done

if [ -n "${ONLY:-}" ]; then
  keep=()
  for name in "${ORDER[@]}"; do
    case " $ONLY " in *" $name "*) keep+=("$name") ;; esac
  done
  ORDER=("${keep[@]}")
fi

# Middleware mode runs unless ONLY leaves it out.
PROXY=0
if wanted proxy; then PROXY=1; fi

echo "# load: $ROUNDS rounds x $DURATION, wrk -t$THREADS -c$CONNS keep-alive, $(nproc) CPUs, isolates=$ISOLATES"
: >"$OUT/results"
for round in $(seq "$ROUNDS"); do
  echo "round $round"
  for name in "${ORDER[@]}"; do
    # shellcheck disable=SC2086
    serve "$name" ${CONFIGS[$name]}
    drive "$name"
    stop
  done
done

: >"$OUT/results-proxy"
if [ "$PROXY" = 1 ]; then
  echo
  echo "# middleware mode: a pass-through guest (next=1) before a native hello origin, against a tuned"
  echo "# native httputil.ReverseProxy (256 idle connections) to the same origin; ratio to the native proxy"
  serve origin bin/bench/native
  ORIGIN_PID=$PID ORIGIN="http://127.0.0.1:$PORT"
  declare -A PCONFIGS=(
    [proxy-native]="bin/bench/native -upstream $ORIGIN"
    # --isolates as wasmserve chooses it in middleware mode (four per CPU)
    # unless PROXY_ISOLATES says.
    [proxy-wasmserve]="${WS0[*]} --isolates ${PROXY_ISOLATES:-0} --upstream $ORIGIN host/testdata/next.wasm"
  )
  for round in $(seq "$ROUNDS"); do
    echo "round $round"
    for name in proxy-native proxy-wasmserve; do
      # shellcheck disable=SC2086
      serve "$name" ${PCONFIGS[$name]}
      OUT_RESULTS="$OUT/results-proxy" drive "$name"
      stop
    done
  done
  kill -TERM "$ORIGIN_PID" 2>/dev/null || true; wait "$ORIGIN_PID" 2>/dev/null || true
fi

# The goals, and the helpers of every summary below: each defined once.
AWKLIB='
  BEGIN {
    # req/s of a config against native
    want["wat"] = 0.95; want["go"] = 0.75; want["wat-fresh"] = 0.6; want["cgi-c"] = 0.5; want["go-fresh"] = 0.3
    p99x = 2           # p99 of wat and go against native
    cpu_extra = 1.5    # server CPU us a request wat may spend beyond native
    log_loss = 0.03    # share of req/s the access log may cost the WAT hello
    over_hostgo = 1.25 # req/s of wat against the same guest on http-wasm-host-go
    js_rps = 1000      # req/s of the JS component, a fresh instance per request
    proxy_rps = 1.0; proxy_p99 = 1.5 # middleware mode against the native proxy
  }
  function median(s,   a, k, i, j, t) {
    k = split(s, a, " ")
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((k + 1) / 2)]
  }
  function verdict(ok) { return ok ? "met" : "NOT MET" }
  # Every line of a results file: config rps p50_us p99_us cpu_us.
  {
    rps[$1] = rps[$1] " " $2; p50[$1] = p50[$1] " " $3; p99[$1] = p99[$1] " " $4; cpu[$1] = cpu[$1] " " $5
    if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
    round[$1]++; byround[$1, round[$1]] = $2
  }
  # walloss: 1 - the median of the per-round wat/wat-nolog req/s ratios.
  # Each round runs the two back to back, so the ratio within a round
  # cancels the machine drift between rounds (on these VMs +-10 %, more
  # than the effect measured).
  function walloss(   pairs, k) {
    pairs = ""
    for (k = 1; k <= round["wat"] && k <= round["wat-nolog"]; k++) pairs = pairs " " byround["wat", k] / byround["wat-nolog", k]
    return 1 - median(pairs)
  }
'

echo
echo "# median over rounds, ratio to native"
printf '%-22s %12s %8s %8s %10s %10s %8s  %s\n' config req/s p50_us p99_us rps_ratio p99_ratio cpu_us "target"
awk "$AWKLIB"'
  END {
    native = ("native" in rps); nr = median(rps["native"]); np = median(p99["native"])
    for (i = 1; i <= n; i++) {
      c = order[i]
      r = median(rps[c]) / nr; q = median(p99[c]) / np
      t = ""
      if ((c in want) && native) t = sprintf("req/s >= %.2fx: %s", want[c], verdict(r >= want[c]))
      if ((c == "wat" || c == "go") && native) t = t sprintf(", p99 <= %gx: %s", p99x, verdict(q <= p99x))
      if (c == "hostgo" && ("wat" in rps)) {
        h = median(rps["wat"]) / median(rps[c])
        t = sprintf("wat/hostgo %.2fx, >= %.2fx: %s", h, over_hostgo, verdict(h >= over_hostgo))
      }
      if (c == "js") t = sprintf("req/s >= %d (a fresh instance per request): %s", js_rps, verdict(median(rps[c]) >= js_rps))
      printf "%-22s %12.0f %8d %8d %9.2fx %9.2fx %8.2f  %s\n", c, median(rps[c]), median(p50[c]), median(p99[c]), r, q, median(cpu[c]), t
    }
    if ("wat-nolog" in rps) {
      loss = walloss()
      printf "access log: the WAT hello loses %.1f%% req/s with it on (median of per-round wat/wat-nolog ratios; %.1f%% from the medians); target <= %g%%: %s\n", 100 * loss, 100 * (1 - median(rps["wat"]) / median(rps["wat-nolog"])), 100 * log_loss, verdict(loss <= log_loss)
      printf "access log: server CPU per request %.2f us with it, %.2f us without: %+.1f%%\n", median(cpu["wat"]), median(cpu["wat-nolog"]), 100 * (median(cpu["wat"]) / median(cpu["wat-nolog"]) - 1)
    }
  }' "$OUT/results" | tee "$OUT/summary"
if [ "$PROXY" = 1 ]; then
  echo
  echo "# middleware mode, median over rounds, ratio to the native proxy"
  awk "$AWKLIB"'
    END {
      r = median(rps["proxy-wasmserve"]) / median(rps["proxy-native"])
      q = median(p99["proxy-wasmserve"]) / median(p99["proxy-native"])
      printf "proxy-native %.0f req/s p99 %d us; proxy-wasmserve %.0f req/s p99 %d us: %.2fx req/s, %.2fx p99\n",
        median(rps["proxy-native"]), median(p99["proxy-native"]), median(rps["proxy-wasmserve"]), median(p99["proxy-wasmserve"]), r, q
      printf "target req/s >= %.2fx: %s, p99 <= %gx: %s\n", proxy_rps, verdict(r >= proxy_rps), proxy_p99, verdict(q <= proxy_p99)
    }' "$OUT/results-proxy" | tee "$OUT/summary-proxy"
fi

# Every goal of the load runs, one line each, met, NOT MET or not measured
# (a config ONLY left out), also in $OUT/goals; start-up, memory and the
# component figures add theirs below.
echo
echo "# goals (medians over rounds)"
awk "$AWKLIB"'
  function against(label, c, base, want,   r) {
    if (!(c in rps) || !(base in rps)) { printf "%s: not measured\n", label; return }
    r = median(rps[c]) / median(rps[base])
    printf "%s: %.2fx (%.0f against %.0f req/s): %s\n", label, r, median(rps[c]), median(rps[base]), verdict(r >= want)
  }
  function tail(label, c, base, want,   q) {
    if (!(c in rps) || !(base in rps)) { printf "%s: not measured\n", label; return }
    q = median(p99[c]) / median(p99[base])
    printf "%s: %.2fx (%d against %d us): %s\n", label, q, median(p99[c]), median(p99[base]), verdict(q <= want)
  }
  END {
    against(sprintf("wat req/s >= %.2fx native", want["wat"]), "wat", "native", want["wat"])
    tail(sprintf("wat p99 <= %gx native", p99x), "wat", "native", p99x)
    label = sprintf("host work: wat server CPU per request <= native + %.1f us", cpu_extra)
    if (("wat" in cpu) && ("native" in cpu)) {
      d = median(cpu["wat"]) - median(cpu["native"])
      printf "%s: wat %.2f us, native %.2f us, %+.2f us: %s\n", label, median(cpu["wat"]), median(cpu["native"]), d, verdict(d <= cpu_extra)
    } else printf "%s: not measured\n", label
    label = sprintf("access log: the WAT hello loses <= %g%% req/s with it on (paired rounds)", 100 * log_loss)
    if (("wat" in rps) && ("wat-nolog" in rps)) {
      loss = walloss()
      printf "%s: %.1f%%: %s\n", label, 100 * loss, verdict(loss <= log_loss)
      printf "  access log CPU per request: %.2f us with it, %.2f us without, %+.1f%%\n", median(cpu["wat"]), median(cpu["wat-nolog"]), 100 * (median(cpu["wat"]) / median(cpu["wat-nolog"]) - 1)
    } else printf "%s: not measured\n", label
    label = sprintf("other host: wat req/s >= %.2fx hostgo (http-wasm-host-go, the same guest)", over_hostgo)
    if (("wat" in rps) && ("hostgo" in rps)) {
      h = median(rps["wat"]) / median(rps["hostgo"])
      printf "%s: %.2fx (wat %.0f req/s, p99 %d us, %.2f cpu us/req; hostgo %.0f req/s, p99 %d us, %.2f cpu us/req): %s\n", label, h,
        median(rps["wat"]), median(p99["wat"]), median(cpu["wat"]), median(rps["hostgo"]), median(p99["hostgo"]), median(cpu["hostgo"]), verdict(h >= over_hostgo)
    } else printf "%s: not measured\n", label
    against(sprintf("go req/s >= %.2fx native", want["go"]), "go", "native", want["go"])
    tail(sprintf("go p99 <= %gx native", p99x), "go", "native", p99x)
    split("wat-fresh cgi-c go-fresh", more, " ")
    for (i = 1; i <= 3; i++) against(sprintf("%s req/s >= %.2fx native", more[i], want[more[i]]), more[i], "native", want[more[i]])
    label = sprintf("js req/s >= %d (a fresh instance per request)", js_rps)
    if ("js" in rps) printf "%s: %.0f: %s\n", label, median(rps["js"]), verdict(median(rps["js"]) >= js_rps)
    else printf "%s: not measured\n", label
    against(sprintf("middleware: proxy-wasmserve req/s >= %.2fx proxy-native", proxy_rps), "proxy-wasmserve", "proxy-native", proxy_rps)
    tail(sprintf("middleware: proxy-wasmserve p99 <= %gx proxy-native", proxy_p99), "proxy-wasmserve", "proxy-native", proxy_p99)
  }' "$OUT/results" "$OUT/results-proxy" | tee "$OUT/goals"
[ -z "${ONLY:-}" ] || exit 0

# goal WHAT: print the lines read, and add each to $OUT/goals as "WHAT: line".
goal() {
  local l
  while IFS= read -r l; do
    echo "$l"
    echo "$1: ${l#"${l%%[! ]*}"}" >>"$OUT/goals"
  done
}

echo
echo "# start-up: exec to first 200 (median of 5), ms"
GUESTS=("wat $WAT" "go $GOHELLO")
[ -z "$JS" ] || GUESTS+=("js $JS")
for g in "${GUESTS[@]}"; do
  set -- $g
  rm -rf "$CACHE"/*
  cold=$(bin/bench/startup -n 1 -- bin/wasmserve serve --no-banner --no-url --address 127.0.0.1 --isolates 1 --cache-dir "$CACHE" "$2")
  warm=$(bin/bench/startup -n 5 -- bin/wasmserve serve --no-banner --no-url --address 127.0.0.1 --isolates 1 --cache-dir "$CACHE" "$2")
  nocache=$(bin/bench/startup -n 3 -- bin/wasmserve serve --no-banner --no-url --address 127.0.0.1 --isolates 1 --no-cache "$2")
  native=$(bin/bench/startup -n 5 -- bin/bench/native -address 127.0.0.1 x)
  limit=30; [ "$1" = go ] && limit=100; [ "$1" = js ] && limit=1000
  verdict=$(awk -v w="$warm" -v l="$limit" 'BEGIN { print (w <= l) ? "met" : "NOT MET" }')
  printf '  %-4s cold %8s  warm cache %8s  no cache %8s   (native server: %s)  target warm <= %d ms: %s\n' "$1" "$cold" "$warm" "$nocache" "$native" "$limit" "$verdict" | goal start-up
done
# What a process that already holds a module can do instead of a restart:
# a reload in place (SIGHUP) of the Go hello to the Go echo, to its first 200.
reload=$(bin/bench/startup -n 5 -reload "$GOECHO" -- bin/wasmserve serve --no-banner --no-url --address 127.0.0.1 --isolates 1 --cache-dir "$CACHE" "$GOHELLO")
verdict=$(awk -v w="$reload" 'BEGIN { print (w <= 100) ? "met" : "NOT MET" }')
printf '  go   reload in place (SIGHUP to the first 200 of the new module) %s ms; target <= 100 ms: %s\n' "$reload" "$verdict" | goal start-up

echo
echo "# memory: resident set size over idle isolates (after one request each)"
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
for g in "${GUESTS[@]}"; do
  set -- $g
  line="  $1"
  declare -A R=()
  for n in 1 16 64; do
    serve "mem-$1-$n" bin/wasmserve serve --no-banner --no-url --address 127.0.0.1 --port 0 --isolates "$n" --cache-dir "$CACHE" "$2"
    sleep 0.5
    R[$n]=$(rss_kib "$PID")
    stop
    line="$line  n=$n ${R[$n]} KiB"
  done
  per=$(( (R[64] - R[16]) / 48 ))
  note=""
  [ "$1" = wat ] && { [ "$per" -le 64 ] && note="  target <= 64 KiB beyond a 64 KiB linear memory: met" || note="  target <= 64 KiB: NOT MET"; }
  if [ -n "$note" ]; then
    echo "$line  per isolate (16->64): $per KiB$note" | goal memory
  else
    echo "$line  per isolate (16->64): $per KiB$note"
  fi
done

if [ -n "$JS" ]; then
  echo
  echo "# component instances: a new instance of the JS component in its pool (memory from its image), and"
  echo "# the linking beyond wazero's instantiation of its core modules (Go benchmarks, in process)"
  WASMSERVE_COMPONENT=$PWD/$JS go test -run '^$' -bench 'ComponentInstantiate/real' -benchtime 200x ./runtimepool/ |
    awk '/^Benchmark/ { us = $3 / 1000; printf "  instance start %.0f us; target <= 200 us: %s\n", us, (us <= 200 ? "met" : "NOT MET") }' | goal component
  WASMSERVE_COMPONENT=$PWD/$JS go test -run '^$' -bench 'Instantiate/real' -benchtime 50x ./runtimepool/component/ |
    awk '/^Benchmark/ { for (i = 1; i <= NF; i++) if ($i == "link-ns/op") l = $(i-1); printf "  linking %.1f us per instance; target <= 50 us: %s\n", l / 1000, (l <= 50000 ? "met" : "NOT MET") }' | goal component
fi
