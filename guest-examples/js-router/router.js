// A wasi:http/proxy component in JavaScript: a small router over the
// service-worker fetch event that componentize-js (StarlingMonkey) gives.

addEventListener("fetch", (event) => event.respondWith(route(event.request)));

const text = { "content-type": "text/plain; charset=utf-8" };

async function route(req) {
  const url = new URL(req.url);
  const key = req.method + " " + url.pathname;
  switch (key) {
    case "GET /teapot":
      return new Response("short and stout\n", { status: 418, headers: text });
    case "GET /headers":
      return headers(req);
    case "POST /echo":
      return new Response(req.body, {
        headers: { "content-type": req.headers.get("content-type") || "application/octet-stream" },
      });
    case "GET /big":
      return big(1 << 20);
    case "GET /throw":
      throw new Error("the guest throws on purpose");
    case "GET /spin":
      for (;;) {} // until the handler timeout stops it
    case "GET /fetch":
      return relay(url.searchParams.get("url"));
    case "POST /fetch":
      return relay(url.searchParams.get("url"), { method: "POST", body: await req.arrayBuffer() });
  }
  if (req.method !== "GET") {
    return new Response("method not allowed\n", { status: 405, headers: { ...text, allow: "GET" } });
  }
  return new Response(`path: ${url.pathname}\nquery: ${url.search}\n`, { headers: text });
}

// headers echoes the request headers the client sent with an x- prefix, and
// answers a header with several values.
function headers(req) {
  const out = new Headers(text);
  let body = "";
  for (const [name, value] of req.headers) {
    if (name.startsWith("x-")) {
      body += `${name}: ${value}\n`;
    }
  }
  out.append("x-multi", "one");
  out.append("x-multi", "two");
  out.append("set-cookie", "a=1");
  out.append("set-cookie", "b=2");
  return new Response(body, { headers: out });
}

// big streams n bytes of a repeating alphabet in 64 KiB chunks.
function big(n) {
  const chunk = new Uint8Array(64 << 10);
  for (let i = 0; i < chunk.length; i++) {
    chunk[i] = 97 + (i % 26);
  }
  let left = n;
  const stream = new ReadableStream({
    pull(controller) {
      if (left <= 0) {
        controller.close();
        return;
      }
      const k = Math.min(left, chunk.length);
      controller.enqueue(chunk.slice(0, k));
      left -= k;
    },
  });
  return new Response(stream, {
    headers: { "content-type": "application/octet-stream", "content-length": String(n) },
  });
}

// relay fetches target (with init, as fetch takes it) and answers its
// status and body, or 502 with why the fetch failed (a refusal of the
// host's outbound policy among others).
async function relay(target, init) {
  if (!target) {
    return new Response("missing url parameter\n", { status: 400, headers: text });
  }
  try {
    const resp = await fetch(target, init);
    const body = await resp.text();
    return new Response(body, {
      status: resp.status,
      headers: { ...text, "x-upstream-status": String(resp.status) },
    });
  } catch (err) {
    return new Response(`fetch failed: ${err}\n`, { status: 502, headers: text });
  }
}
