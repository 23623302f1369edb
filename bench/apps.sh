#!/bin/sh
# bench/apps.sh: many apps in one process. Writes a manifest of N apps
# (default 100) of one guest (default the WAT hello), each with its own
# pool of ISOLATES isolates (default 1), then measures:
#   - exec to the first 200 with bench/startup (median of RUNS, default 5;
#     the compilation cache warmed by a first run), beside one app alone;
#   - the resident set size after one request to every app, beside one
#     app alone, and the difference per app added.
# Run from the repository root after `make build`:
#   sh bench/apps.sh            # N=100 ISOLATES=1 RUNS=5
#   N=100 GUEST=bin/guests/hello.wasm sh bench/apps.sh
set -eu
N=${N:-100}
ISOLATES=${ISOLATES:-1}
RUNS=${RUNS:-5}
GUEST=${GUEST:-guest-examples/hello-wat/hello.wasm}
go build -o bin/bench/startup ./bench/startup
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
cp "$GUEST" "$dir/guest.wasm"

# manifest N FILE: N apps at /appI/..., the last also at / for startup's GET /.
manifest() {
	i=1
	while [ "$i" -le "$1" ]; do
		root=""
		[ "$i" -eq "$1" ] && root=', "/"'
		printf '[[app]]\nname = "app%d"\nmodule = "guest.wasm"\nroutes = ["/app%d/..."%s]\nisolates = %d\n\n' \
			"$i" "$i" "$root" "$ISOLATES"
		i=$((i + 1))
	done >"$2"
}
manifest 1 "$dir/one.toml"
manifest "$N" "$dir/many.toml"

serve="bin/wasmserve serve --no-banner --no-url --access-log=false --address 127.0.0.1 --cache-dir $dir/cache"
for m in one many; do
	bin/bench/startup -n 1 -- $serve "$dir/$m.toml" >/dev/null # warms the cache
	printf 'start-up, %s: %s ms (median of %d, warm cache)\n' \
		"$( [ $m = one ] && echo 1 app || echo "$N apps" )" \
		"$(bin/bench/startup -n "$RUNS" -- $serve "$dir/$m.toml")" "$RUNS"
done

# rss M: the resident set size in KiB of a server of manifest M after one
# request to each of its apps.
rss() {
	rm -f "$dir/port"
	$serve --port 0 --port-file "$dir/port" "$1" 2>/dev/null &
	pid=$!
	while [ ! -s "$dir/port" ]; do sleep 0.05; done
	port=$(cat "$dir/port")
	n=$(grep -c '^\[\[app\]\]' "$1")
	i=1
	while [ "$i" -le "$n" ]; do
		curl -fs -o /dev/null "http://127.0.0.1:$port/app$i/x"
		i=$((i + 1))
	done
	awk '/^VmRSS/ {print $2}' "/proc/$pid/status"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}
one=$(rss "$dir/one.toml")
many=$(rss "$dir/many.toml")
echo "resident after a request to each app: 1 app $one KiB, $N apps $many KiB," \
	"$(( (many - one) / (N - 1) )) KiB per app added"
