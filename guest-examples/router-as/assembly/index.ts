// index.ts: the conformance router (conformance/README.md) in
// AssemblyScript. Every host function of the http_handler module is called
// by one of its routes. See ../README.md for the build command.

// The host functions of the http-wasm handler ABI.
@external("http_handler", "enable_features") declare function enable_features(features: i32): i32;
@external("http_handler", "get_config") declare function get_config(buf: usize, limit: i32): i32;
@external("http_handler", "log_enabled") declare function log_enabled(level: i32): i32;
@external("http_handler", "log") declare function log(level: i32, msg: usize, len: i32): void;
@external("http_handler", "get_method") declare function get_method(buf: usize, limit: i32): i32;
@external("http_handler", "set_method") declare function set_method(ptr: usize, len: i32): void;
@external("http_handler", "get_uri") declare function get_uri(buf: usize, limit: i32): i32;
@external("http_handler", "set_uri") declare function set_uri(ptr: usize, len: i32): void;
@external("http_handler", "get_protocol_version") declare function get_protocol_version(buf: usize, limit: i32): i32;
@external("http_handler", "get_source_addr") declare function get_source_addr(buf: usize, limit: i32): i32;
@external("http_handler", "get_header_names") declare function get_header_names(kind: i32, buf: usize, limit: i32): i64;
@external("http_handler", "get_header_values") declare function get_header_values(kind: i32, name: usize, nameLen: i32, buf: usize, limit: i32): i64;
@external("http_handler", "set_header_value") declare function set_header_value(kind: i32, name: usize, nameLen: i32, value: usize, valueLen: i32): void;
@external("http_handler", "add_header_value") declare function add_header_value(kind: i32, name: usize, nameLen: i32, value: usize, valueLen: i32): void;
@external("http_handler", "remove_header") declare function remove_header(kind: i32, name: usize, nameLen: i32): void;
@external("http_handler", "read_body") declare function read_body(kind: i32, buf: usize, limit: i32): i64;
@external("http_handler", "write_body") declare function write_body(kind: i32, ptr: usize, len: i32): void;
@external("http_handler", "get_status_code") declare function get_status_code(): i32;
@external("http_handler", "set_status_code") declare function set_status_code(code: i32): void;

// Header kinds, body kinds, log levels and features of the ABI.
const REQUEST: i32 = 0;
const RESPONSE: i32 = 1;
const REQUEST_TRAILERS: i32 = 2;
const RESPONSE_TRAILERS: i32 = 3;
const LOG_DEBUG: i32 = -1;
const LOG_INFO: i32 = 0;
const LOG_ERROR: i32 = 2;
const FEATURE_TRAILERS: i32 = 4;

// Static buffers the host writes values into.
const BUF_SIZE: i32 = 16384;
const buf: usize = memory.data(BUF_SIZE);
const NAMES_SIZE: i32 = 8192;
const names: usize = memory.data(NAMES_SIZE);
const VALUES_SIZE: i32 = 8192;
const values: usize = memory.data(VALUES_SIZE);

// Strings are UTF-16 in AssemblyScript; the ABI speaks bytes, so each is
// encoded to UTF-8 once.
class Bytes {
  data: ArrayBuffer;
  constructor(s: string) { this.data = String.UTF8.encode(s); }
  get ptr(): usize { return changetype<usize>(this.data); }
  get len(): i32 { return this.data.byteLength; }
}

function b(s: string): Bytes { return new Bytes(s); }

function setHeader(kind: i32, name: Bytes, value: Bytes): void {
  set_header_value(kind, name.ptr, name.len, value.ptr, value.len);
}

function addHeader(kind: i32, name: Bytes, value: Bytes): void {
  add_header_value(kind, name.ptr, name.len, value.ptr, value.len);
}

function write(s: Bytes): void { write_body(RESPONSE, s.ptr, s.len); }

const CONTENT_TYPE = b("content-type");
const TEXT = b("text/plain; charset=utf-8");
const YES = b("yes");
const NO = b("no");

function text(): void { setHeader(RESPONSE, CONTENT_TYPE, TEXT); }

// put sets response header name to the value a (buf, limit) host function
// reads, or "" when it does not fit.
function put(name: string, n: i32): void {
  const nb = b(name);
  set_header_value(RESPONSE, nb.ptr, nb.len, buf, n <= BUF_SIZE ? n : 0);
}

function strlen(p: usize): i32 {
  let q = p;
  while (load<u8>(q) != 0) q++;
  return <i32>(q - p);
}

function copyBody(): void {
  while (true) {
    const r = read_body(REQUEST, buf, BUF_SIZE);
    const n = <i32>(r & 0xffffffff);
    if (n > 0) write_body(RESPONSE, buf, n);
    if ((r >>> 32) != 0) return;
  }
}

function routeRequest(): void {
  put("x-method", get_method(buf, BUF_SIZE));
  put("x-uri", get_uri(buf, BUF_SIZE));
  put("x-protocol", get_protocol_version(buf, BUF_SIZE));
  put("x-source-addr", get_source_addr(buf, BUF_SIZE));
  text();
  write(b("ok\n"));
}

function routeHeaders(): void {
  const drop = b("x-drop");
  remove_header(REQUEST, drop.ptr, drop.len);
  setHeader(REQUEST, b("x-set-by-guest"), YES);
  addHeader(REQUEST, b("x-multi"), b("three"));
  setHeader(RESPONSE, b("x-set"), b("one"));
  addHeader(RESPONSE, b("x-add"), b("a"));
  addHeader(RESPONSE, b("x-add"), b("b"));
  const removed = b("x-removed");
  setHeader(RESPONSE, removed, b("gone"));
  remove_header(RESPONSE, removed.ptr, removed.len);
  text();
  const len = <i32>(get_header_names(REQUEST, names, NAMES_SIZE) & 0xffffffff);
  if (len > NAMES_SIZE) {
    set_status_code(431);
    write(b("too many headers\n"));
    return;
  }
  const colon = b(": "), nl = b("\n");
  for (let i = 0; i < len;) {
    const name = names + <usize>i;
    const nl2 = strlen(name);
    const vlen = <i32>(get_header_values(REQUEST, name, nl2, values, VALUES_SIZE) & 0xffffffff);
    if (vlen <= VALUES_SIZE) {
      for (let j = 0; j < vlen;) {
        const value = values + <usize>j;
        const vl = strlen(value);
        write_body(RESPONSE, name, nl2);
        write(colon);
        write_body(RESPONSE, value, vl);
        write(nl);
        j += vl + 1;
      }
    }
    i += nl2 + 1;
  }
}

function routeStatus(): void {
  set_status_code(418);
  if (get_status_code() == 418) setHeader(RESPONSE, b("x-status-read"), YES);
  text();
  write(b("teapot\n"));
}

function routeConfig(): void {
  const n = get_config(buf, BUF_SIZE);
  text();
  if (n <= BUF_SIZE) write_body(RESPONSE, buf, n);
}

function routeLog(): void {
  const info = log_enabled(LOG_INFO) != 0;
  if (info) {
    const msg = b("conformance: hello from the guest");
    log(LOG_INFO, msg.ptr, msg.len);
  }
  setHeader(RESPONSE, b("x-log-enabled"), info ? YES : NO);
  setHeader(RESPONSE, b("x-log-debug"), log_enabled(LOG_DEBUG) != 0 ? YES : NO);
  text();
  write(b("logged\n"));
}

function routeRewrite(): void {
  const method = b("PUT"), target = b("/rewritten?by=guest");
  set_method(method.ptr, method.len);
  set_uri(target.ptr, target.len);
  put("x-method", get_method(buf, BUF_SIZE));
  put("x-uri", get_uri(buf, BUF_SIZE));
  text();
  write(b("rewritten\n"));
}

function routeTrailers(): void {
  const on = (enable_features(FEATURE_TRAILERS) & FEATURE_TRAILERS) != 0;
  setHeader(RESPONSE, b("x-trailers"), b(on ? "on" : "off"));
  text();
  copyBody();
  const sum = b("x-checksum");
  const r = get_header_values(REQUEST_TRAILERS, sum.ptr, sum.len, values, VALUES_SIZE);
  if ((r >>> 32) != 0 && <i32>(r & 0xffffffff) <= VALUES_SIZE) {
    const echo = b("x-checksum-echo");
    set_header_value(RESPONSE_TRAILERS, echo.ptr, echo.len, values, strlen(values));
  }
  setHeader(RESPONSE_TRAILERS, b("x-trailer"), b("done"));
}

// The request context handle_request passes with next, which
// handle_response checks.
const NEXT_CONTEXT: i64 = 7;

export function handle_request(): i64 {
  let n = get_uri(buf, BUF_SIZE);
  if (n > BUF_SIZE) n = 0;
  let path = String.UTF8.decodeUnsafe(buf, <usize>n);
  const q = path.indexOf("?");
  if (q >= 0) path = path.substring(0, q);
  if (path == "/hello") {
    text();
    write(b("hello\n"));
  } else if (path == "/request") routeRequest();
  else if (path == "/headers") routeHeaders();
  else if (path == "/echo") {
    setHeader(RESPONSE, CONTENT_TYPE, b("application/octet-stream"));
    copyBody();
  } else if (path == "/status") routeStatus();
  else if (path == "/config") routeConfig();
  else if (path == "/log") routeLog();
  else if (path == "/rewrite") routeRewrite();
  else if (path == "/trailers") routeTrailers();
  else if (path == "/next") return (NEXT_CONTEXT << 32) | 1;
  else {
    set_status_code(404);
    text();
    write(b("not found\n"));
  }
  return 0;
}

export function handle_response(reqCtx: i32, isError: i32): void {
  if (<i64>reqCtx != NEXT_CONTEXT) {
    const msg = b("conformance: handle_response got the wrong request context");
    log(LOG_ERROR, msg.ptr, msg.len);
  }
}
