#!/bin/sh
# Builds counter.wasm from counter.js with componentize-js. The WIT it needs
# is the WASI 0.2 packages jco ships, at the version the StarlingMonkey
# engine of componentize-js 0.23.0 speaks (0.2.10), and the interfaces of
# wasi:keyvalue@0.2.0-draft the counter imports (store and atomics), written
# out below.
#
# Usage: ./build.sh [OUT.wasm]     (NPMTOOLS=dir holding node_modules)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/counter.wasm}
tools=${NPMTOOLS:-/tmp/npmtools}
bin=$tools/node_modules/.bin
wit=$tools/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/wit/deps/keyvalue"
for pkg in cli clocks filesystem http io random sockets; do
	mkdir -p "$work/wit/deps/$pkg"
	sed 's/0\.2\.12/0.2.10/g' "$wit/wasi-$pkg/package.wit" >"$work/wit/deps/$pkg/package.wit"
done
cat >"$work/wit/deps/keyvalue/package.wit" <<'WIT'
package wasi:keyvalue@0.2.0-draft;

interface store {
  variant error {
    no-such-store,
    access-denied,
    other(string),
  }

  record key-response {
    keys: list<string>,
    cursor: option<u64>,
  }

  open: func(identifier: string) -> result<bucket, error>;

  resource bucket {
    get: func(key: string) -> result<option<list<u8>>, error>;
    set: func(key: string, value: list<u8>) -> result<_, error>;
    delete: func(key: string) -> result<_, error>;
    exists: func(key: string) -> result<bool, error>;
    list-keys: func(cursor: option<u64>) -> result<key-response, error>;
  }
}

interface atomics {
  use store.{bucket, error};

  increment: func(bucket: borrow<bucket>, key: string, delta: u64) -> result<u64, error>;
}
WIT
cat >"$work/wit/world.wit" <<'WIT'
package wasmserve:js-kv-counter;

world counter {
  include wasi:http/proxy@0.2.10;
  import wasi:keyvalue/store@0.2.0-draft;
  import wasi:keyvalue/atomics@0.2.0-draft;
}
WIT
"$bin/componentize-js" "$here/counter.js" --wit "$work/wit" -n counter -o "$out"
