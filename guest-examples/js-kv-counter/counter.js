// A wasi:http/proxy component in JavaScript that counts its requests in a
// key-value store of the server (wasi:keyvalue@0.2.0-draft): GET /count
// adds one to the counter "count" of the store "default", atomically
// across every instance, and answers the sum. Run it with
// `wasmserve serve --kv-store default=file:kv.db counter.wasm`.

import { open } from "wasi:keyvalue/store@0.2.0-draft";
import { increment } from "wasi:keyvalue/atomics@0.2.0-draft";

addEventListener("fetch", (event) => event.respondWith(route(event.request)));

const text = { "content-type": "text/plain; charset=utf-8" };

function route(req) {
  const url = new URL(req.url);
  if (url.pathname !== "/count") {
    return new Response("not found: try GET /count\n", { status: 404, headers: text });
  }
  if (req.method !== "GET") {
    return new Response("method not allowed\n", { status: 405, headers: { ...text, allow: "GET" } });
  }
  let bucket;
  try {
    bucket = open("default");
  } catch (err) {
    // No store named "default": the server runs without --kv-store.
    return new Response(`no key-value store: ${describe(err)}\n`, { status: 503, headers: text });
  }
  try {
    const n = increment(bucket, "count", 1n);
    return new Response(String(n), { headers: text });
  } catch (err) {
    return new Response(`counting failed: ${describe(err)}\n`, { status: 500, headers: text });
  } finally {
    bucket[Symbol.dispose]();
  }
}

// describe names a wasi:keyvalue error: the case of its variant, and the
// message of error::other.
function describe(err) {
  const e = err && err.payload !== undefined ? err.payload : err;
  if (e && typeof e === "object" && "tag" in e) {
    return e.val === undefined ? e.tag : `${e.tag}: ${e.val}`;
  }
  return String(e);
}
