#!/bin/sh
# Builds router.wasm, a wasi:http/proxy component, from router.c: clang
# and wasi-libc make a core module, jco embeds the component type of the
# world in it (embed.mjs) and makes it a component with the WASI preview1
# reactor adapter jco ships (wasi-libc's stderr goes through it).
#
# Usage: ./build.sh [OUT.wasm]     (NPMTOOLS=dir holding node_modules)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/router.wasm}
tools=${NPMTOOLS:-/tmp/npmtools}
wit=$tools/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One WIT file: the world, then each WASI package jco ships as a nested
# package.
cat >"$work/router.wit" <<'WIT'
package wasmserve:component-c;

world router {
  import wasi:http/types@0.2.12;
  import wasi:io/streams@0.2.12;
  export wasi:http/incoming-handler@0.2.12;
}
WIT
for pkg in cli clocks filesystem http io random sockets; do
	sed -e '1,/^package /s/^package \(.*\);/package \1 {/' "$wit/wasi-$pkg/package.wit" >>"$work/router.wit"
	echo "}" >>"$work/router.wit"
done
clang --target=wasm32-wasi -O2 -mexec-model=reactor -o "$work/core.wasm" "$here/router.c"
node "$here/embed.mjs" "$tools" "$work/router.wit" router "$work/core.wasm" "$work/embedded.wasm"
# jco's wasm-tools sees files under the current directory only.
cd "$work"
"$tools/node_modules/.bin/jco" new embedded.wasm --wasi-reactor -o router.wasm
cp router.wasm "$out"
