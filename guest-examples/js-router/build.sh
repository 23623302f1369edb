#!/bin/sh
# Builds router.wasm from router.js with componentize-js. The WIT it needs
# is assembled from the WASI 0.2 packages jco ships, at the version the
# StarlingMonkey engine of componentize-js 0.23.0 speaks (0.2.10).
#
# Usage: ./build.sh [OUT.wasm]     (NPMTOOLS=dir holding node_modules)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/router.wasm}
tools=${NPMTOOLS:-/tmp/npmtools}
bin=$tools/node_modules/.bin
wit=$tools/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/wit/deps"
for pkg in cli clocks filesystem http io random sockets; do
	mkdir -p "$work/wit/deps/$pkg"
	sed 's/0\.2\.12/0.2.10/g' "$wit/wasi-$pkg/package.wit" >"$work/wit/deps/$pkg/package.wit"
done
cat >"$work/wit/world.wit" <<'WIT'
package wasmserve:js-router;

world router {
  include wasi:http/proxy@0.2.10;
}
WIT
"$bin/componentize-js" "$here/router.js" --wit "$work/wit" -n router -o "$out"
