#!/usr/bin/env bash
# make conformance: rebuild the guests whose toolchain is here (the
# committed .wasm is used for the others), run `wasmserve test` for every
# example of conformance/examples.tsv, then the http-wasm TCK, and print
# the totals as "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
bin=bin/wasmserve
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

$GO build -o "$bin" ./cmd/wasmserve || exit 1

# rebuild NAME TOOL COMMAND...: run COMMAND when TOOL is installed.
rebuild() {
  local name=$1 tool=$2; shift 2
  if command -v "$tool" >/dev/null 2>&1 || [ -x "$tool" ]; then
    echo "rebuild $name: $*"
    "$@" || { echo "rebuild $name failed"; exit 1; }
  else
    echo "skip rebuilding $name: $tool is not installed; using the committed .wasm"
  fi
}
rebuild router-c clang clang --target=wasm32-wasi -O2 -mexec-model=reactor -I abi/c \
  -o guest-examples/router-c/router.wasm guest-examples/router-c/router.c
rebuild hello-c clang clang --target=wasm32-wasi -O2 -mexec-model=reactor -I abi/c \
  -o guest-examples/hello-c/hello.wasm guest-examples/hello-c/hello.c
rebuild router-rust /usr/bin/rustc /usr/bin/rustc --edition 2021 --target wasm32-unknown-unknown \
  --crate-type cdylib -O -C strip=symbols -o guest-examples/router-rust/router.wasm guest-examples/router-rust/router.rs
if [ -x guest-examples/router-as/node_modules/.bin/asc ]; then
  echo "rebuild router-as: npm run build"
  (cd guest-examples/router-as && npm run --silent build) || { echo "rebuild router-as failed"; exit 1; }
else
  echo "skip rebuilding router-as: run 'npm ci' in guest-examples/router-as first; using the committed .wasm"
fi
rebuild router-wat wat2wasm wat2wasm guest-examples/router-wat/router.wat -o guest-examples/router-wat/router.wasm
rebuild hello-wat wat2wasm wat2wasm guest-examples/hello-wat/hello.wat -o guest-examples/hello-wat/hello.wasm

passed=0 failed=0
module_of() { # example module
  if [ "$2" = go ]; then
    GOOS=wasip1 GOARCH=wasm $GO build -buildmode=c-shared -o "$work/$1.wasm" "./guest-examples/$1" || return 1
    echo "$work/$1.wasm"
  elif [ "$2" = go-command ]; then
    GOOS=wasip1 GOARCH=wasm $GO build -o "$work/$1.wasm" "./guest-examples/$1" || return 1
    echo "$work/$1.wasm"
  elif [ "$2" = component-js ]; then
    # componentize-js from npm (NPMTOOLS, as .ci/run installs it)
    sh "./guest-examples/$1/build.sh" "$work/$1.wasm" >/dev/null || return 1
    echo "$work/$1.wasm"
  else
    echo "$2"
  fi
}
count() { # add the "N passed, N failed" line of a run's output
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  passed=$((passed + ${line%% passed*}))
  line=${line#*, }
  failed=$((failed + ${line%% failed}))
}

while IFS=$'\t' read -r example module cases upstream flags; do
  case "$example" in ''|'#'*) continue ;; esac
  echo "== $example ($cases)"
  wasm=$(module_of "$example" "$module") || { echo "building $example failed"; failed=$((failed + 1)); continue; }
  args=()
  if [ "$upstream" = echo ]; then
    echo_wasm=$(module_of echo go) || { failed=$((failed + 1)); continue; }
    rm -f "$work/echo.port"
    "$bin" serve --address 127.0.0.1 --port 0 --port-file "$work/echo.port" --no-banner --no-url "$echo_wasm" 2>"$work/echo.log" &
    pids+=($!)
    for _ in $(seq 300); do [ -s "$work/echo.port" ] && break; sleep 0.1; done
    args+=(--upstream "http://127.0.0.1:$(cat "$work/echo.port")")
  fi
  # shellcheck disable=SC2086 # flags are words
  "$bin" test "${args[@]}" $flags --junit "$work/$example.xml" "$wasm" "$cases" | tee "$work/out"
  count "$work/out"
done < conformance/examples.tsv

echo "== http-wasm TCK and middleware-mode tests (go test ./host/)"
$GO test -count=1 -run 'TestTCK|TestMiddleware|TestBuffer|TestTrailers|TestRequestTrailers|TestGuestConfig|TestStartFunctions' \
  -v ./host/ > "$work/tck" 2>&1
tck_pass=$(grep -c -- '^\s*--- PASS' "$work/tck")
tck_fail=$(grep -c -- '^\s*--- FAIL' "$work/tck")
grep -E -- '^(--- |ok|FAIL)' "$work/tck"
if [ "$tck_pass" -eq 0 ] && [ "$tck_fail" -eq 0 ]; then tck_fail=1; cat "$work/tck"; fi
passed=$((passed + tck_pass)) failed=$((failed + tck_fail))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
