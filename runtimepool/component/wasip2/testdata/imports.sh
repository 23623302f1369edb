#!/bin/sh
# imports.sh builds imports.wasm: a dummy component that imports every
# function and resource of the wasi:cli/imports world at 0.2.12 (io,
# clocks, random, cli, filesystem, sockets), made by wasm-tools' dummy
# embedding from the WIT that jco ships. The tests link it against
# Define's host, which checks every signature Define implements against
# the WIT.
# Rebuild: sh imports.sh  (needs node and jco in /tmp/npmtools, or JCO_DIR)
set -eu
jco=${JCO_DIR:-/tmp/npmtools/node_modules/@bytecodealliance}
wit=$jco/jco/lib/wit/builtin/0.2.12
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
	printf 'package wasmserve:test;\nworld all {\n  include wasi:cli/imports@0.2.12;\n}\n'
	for p in io clocks random filesystem sockets cli; do
		sed -E '1s/^package (.*);$/package \1 {/' "$wit/wasi-$p/package.wit"
		echo "}"
	done
} >"$tmp/all.wit"
cat >"$tmp/embed.mjs" <<JS
import { componentEmbed, componentNew } from '$jco/jco-transpile/dist/wasm-tools.js';
import { readFileSync, writeFileSync } from 'node:fs';
const core = await componentEmbed({ witSource: readFileSync('$tmp/all.wit', 'utf8'), dummy: true, world: 'wasmserve:test/all' });
writeFileSync('imports.wasm', await componentNew(core, []));
JS
node "$tmp/embed.mjs"
