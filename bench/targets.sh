#!/usr/bin/env bash
# bench/targets.sh: the in-process performance targets, each
# printed as met or NOT MET beside the native handler of the same run.
#
#   bash bench/targets.sh            # 3 runs of each, medians
#   COUNT=5 BENCHTIME=50000x bash bench/targets.sh
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-3}
BENCHTIME=${BENCHTIME:-20000x}
OUT=${OUT:-bench/out}
mkdir -p "$OUT"
go test -run '^$' -bench '^Benchmark(HelloNative|HelloWAT|HelloHostGo|HelloGo|HelloGoDefaults|Echo64KiBNative|Echo64KiBWAT|Echo64KiBCopyGo|Echo64KiBGo)$' \
  -benchmem -benchtime "$BENCHTIME" -count "$COUNT" ./bench/ | tee "$OUT/targets.txt"
go test -run '^$' -bench '^BenchmarkHelloGoFresh$' -benchmem -benchtime 300x -count "$COUNT" ./bench/ | tee -a "$OUT/targets.txt"
go test -run '^$' -bench '^Benchmark(HelloGoFloor|GoGuestOps)$' -benchtime 200x ./bench/ | tee "$OUT/goops.txt"
echo
echo "# in-process targets (median cpu-ns/op of $COUNT runs)"
awk '
  /^Benchmark/ {
    name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
    v = ""; w = ""
    for (i = 2; i < NF; i++) { if ($(i+1) == "cpu-ns/op") v = $i; if ($(i+1) == "ns/op") w = $i }
    cpu[name] = cpu[name] " " (v != "" ? v : w)
  }
  function median(s,   a, k, i, j, t) {
    k = split(s, a, " ")
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((k + 1) / 2)]
  }
  END {
    for (n in cpu) m[n] = median(cpu[n])
    printf "%-18s %10.0f ns   native %6.0f ns   %5.1fx native\n", "HelloWAT", m["HelloWAT"], m["HelloNative"], m["HelloWAT"] / m["HelloNative"]
    printf "%-18s %10.0f ns   the same guest on http-wasm-host-go: %.2fx HelloWAT\n", "HelloHostGo", m["HelloHostGo"], m["HelloHostGo"] / m["HelloWAT"]
    printf "%-18s %10.0f ns   target <= 3000 ns: %s\n", "HelloGo", m["HelloGo"], m["HelloGo"] <= 3000 ? "met" : "NOT MET"
    printf "%-18s %10.0f ns   (with serve'"'"'s default limits)\n", "HelloGoDefaults", m["HelloGoDefaults"]
    r = m["Echo64KiBCopyGo"] / m["Echo64KiBWAT"]
    printf "%-18s %10.0f ns   WAT copy %.0f ns, native %.0f ns: %.2fx the WAT copy, target <= 2x: %s\n", "Echo64KiBCopyGo", m["Echo64KiBCopyGo"], m["Echo64KiBWAT"], m["Echo64KiBNative"], r, r <= 2 ? "met" : "NOT MET"
    printf "%-18s %10.0f ns   the echo example, which JSON-encodes the body\n", "Echo64KiBGo", m["Echo64KiBGo"]
    printf "%-18s %10.0f ns   (wall) a fresh instance per request (a Go guest cannot be reset; RATIONALE.md)\n", "HelloGoFresh", m["HelloGoFresh"]
  }' "$OUT/targets.txt" | tee "$OUT/targets-summary"
echo
echo "# the floor under a Go guest: single Go runtime operations, in a guest and natively (cpu-ns per operation)"
awk '
  /^BenchmarkHelloGoFloor/ { for (i = 2; i < NF; i++) if ($(i+1) == "cpu-ns/op") floor = $i }
  /^BenchmarkGoGuestOps\// {
    split($1, p, "/"); op = p[2]; side = p[3]; sub(/-[0-9]+$/, "", side)
    for (i = 2; i < NF; i++) if ($(i+1) == "cpu-ns/op") v = $i
    if (side == "native") n[op] = v; else { g[op] = v; order[++k] = op }
  }
  END {
    printf "%-14s %10s %10s %8s\n", "operation", "native", "guest", "ratio"
    for (i = 1; i <= k; i++) { op = order[i]; printf "%-14s %10.1f %10.1f %7.1fx\n", op, n[op], g[op], g[op] / n[op] }
    printf "a Go guest without the SDK (HelloGoFloor): %.0f ns a request\n", floor
  }' "$OUT/goops.txt" | tee -a "$OUT/targets-summary"
