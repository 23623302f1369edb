//! router.rs: the conformance router (conformance/README.md) in Rust, with
//! plain `#[link(wasm_import_module = "http_handler")]` imports and no
//! crates. Every host function of the ABI is called by one of its routes.
//!
//! Rebuild (Debian: apt-get install rustc libstd-rust-dev-wasm32; Debian's
//! rustc is /usr/bin/rustc, rustup's may come first in PATH):
//!   /usr/bin/rustc --edition 2021 --target wasm32-unknown-unknown --crate-type cdylib -O \
//!     -C strip=symbols -o guest-examples/router-rust/router.wasm guest-examples/router-rust/router.rs

/// The host functions of the http-wasm handler ABI.
mod abi {
    #[link(wasm_import_module = "http_handler")]
    extern "C" {
        pub fn enable_features(features: i32) -> i32;
        pub fn get_config(buf: *mut u8, limit: i32) -> i32;
        pub fn log_enabled(level: i32) -> i32;
        pub fn log(level: i32, msg: *const u8, len: i32);
        pub fn get_method(buf: *mut u8, limit: i32) -> i32;
        pub fn set_method(ptr: *const u8, len: i32);
        pub fn get_uri(buf: *mut u8, limit: i32) -> i32;
        pub fn set_uri(ptr: *const u8, len: i32);
        pub fn get_protocol_version(buf: *mut u8, limit: i32) -> i32;
        pub fn get_source_addr(buf: *mut u8, limit: i32) -> i32;
        pub fn get_header_names(kind: i32, buf: *mut u8, limit: i32) -> i64;
        pub fn get_header_values(kind: i32, name: *const u8, name_len: i32, buf: *mut u8, limit: i32) -> i64;
        pub fn set_header_value(kind: i32, name: *const u8, name_len: i32, value: *const u8, value_len: i32);
        pub fn add_header_value(kind: i32, name: *const u8, name_len: i32, value: *const u8, value_len: i32);
        pub fn remove_header(kind: i32, name: *const u8, name_len: i32);
        pub fn read_body(kind: i32, buf: *mut u8, limit: i32) -> i64;
        pub fn write_body(kind: i32, ptr: *const u8, len: i32);
        pub fn get_status_code() -> i32;
        pub fn set_status_code(code: i32);
    }
}

/// Header kinds.
#[derive(Clone, Copy)]
#[repr(i32)]
enum Kind {
    Request = 0,
    Response = 1,
    RequestTrailers = 2,
    ResponseTrailers = 3,
}

const BODY_REQUEST: i32 = 0;
const BODY_RESPONSE: i32 = 1;
const LOG_DEBUG: i32 = -1;
const LOG_INFO: i32 = 0;
const LOG_ERROR: i32 = 2;
const FEATURE_TRAILERS: i32 = 4;

/// read calls a `(buf, limit) -> len` host function, growing the buffer
/// until the value fits.
fn read(f: unsafe extern "C" fn(*mut u8, i32) -> i32) -> Vec<u8> {
    let mut buf = vec![0u8; 256];
    loop {
        let n = unsafe { f(buf.as_mut_ptr(), buf.len() as i32) } as usize;
        if n <= buf.len() {
            buf.truncate(n);
            return buf;
        }
        buf.resize(n, 0);
    }
}

/// values returns the NUL-separated values of header `name` of `kind`.
fn values(kind: Kind, name: &[u8]) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; 1024];
    loop {
        let r = unsafe {
            abi::get_header_values(kind as i32, name.as_ptr(), name.len() as i32, buf.as_mut_ptr(), buf.len() as i32)
        };
        let (count, n) = ((r as u64 >> 32) as usize, r as u32 as usize);
        if n <= buf.len() {
            return buf[..n].split(|&b| b == 0).take(count).map(|v| v.to_vec()).collect();
        }
        buf.resize(n, 0);
    }
}

fn header_names(kind: Kind) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; 1024];
    loop {
        let r = unsafe { abi::get_header_names(kind as i32, buf.as_mut_ptr(), buf.len() as i32) };
        let (count, n) = ((r as u64 >> 32) as usize, r as u32 as usize);
        if n <= buf.len() {
            return buf[..n].split(|&b| b == 0).take(count).map(|v| v.to_vec()).collect();
        }
        buf.resize(n, 0);
    }
}

fn set(kind: Kind, name: &[u8], value: &[u8]) {
    unsafe { abi::set_header_value(kind as i32, name.as_ptr(), name.len() as i32, value.as_ptr(), value.len() as i32) }
}

fn add(kind: Kind, name: &[u8], value: &[u8]) {
    unsafe { abi::add_header_value(kind as i32, name.as_ptr(), name.len() as i32, value.as_ptr(), value.len() as i32) }
}

fn remove(kind: Kind, name: &[u8]) {
    unsafe { abi::remove_header(kind as i32, name.as_ptr(), name.len() as i32) }
}

fn write(b: &[u8]) {
    unsafe { abi::write_body(BODY_RESPONSE, b.as_ptr(), b.len() as i32) }
}

fn log_enabled(level: i32) -> bool {
    unsafe { abi::log_enabled(level) != 0 }
}

fn log(level: i32, msg: &str) {
    unsafe { abi::log(level, msg.as_ptr(), msg.len() as i32) }
}

fn text() {
    set(Kind::Response, b"content-type", b"text/plain; charset=utf-8");
}

fn yes_no(b: bool) -> &'static [u8] {
    if b { b"yes" } else { b"no" }
}

/// copy_body streams the request body to the response body.
fn copy_body() {
    let mut buf = [0u8; 16384];
    loop {
        let r = unsafe { abi::read_body(BODY_REQUEST, buf.as_mut_ptr(), buf.len() as i32) };
        let n = r as u32 as usize;
        if n > 0 {
            write(&buf[..n.min(buf.len())]);
        }
        if (r as u64 >> 32) != 0 {
            return;
        }
    }
}

fn route_request() {
    set(Kind::Response, b"x-method", &read(abi::get_method));
    set(Kind::Response, b"x-uri", &read(abi::get_uri));
    set(Kind::Response, b"x-protocol", &read(abi::get_protocol_version));
    set(Kind::Response, b"x-source-addr", &read(abi::get_source_addr));
    text();
    write(b"ok\n");
}

fn route_headers() {
    remove(Kind::Request, b"x-drop");
    set(Kind::Request, b"x-set-by-guest", b"yes");
    add(Kind::Request, b"x-multi", b"three");
    set(Kind::Response, b"x-set", b"one");
    add(Kind::Response, b"x-add", b"a");
    add(Kind::Response, b"x-add", b"b");
    set(Kind::Response, b"x-removed", b"gone");
    remove(Kind::Response, b"x-removed");
    text();
    let mut out = Vec::new();
    for name in header_names(Kind::Request) {
        for value in values(Kind::Request, &name) {
            out.extend_from_slice(&name);
            out.extend_from_slice(b": ");
            out.extend_from_slice(&value);
            out.push(b'\n');
        }
    }
    write(&out);
}

fn route_status() {
    unsafe { abi::set_status_code(418) };
    if unsafe { abi::get_status_code() } == 418 {
        set(Kind::Response, b"x-status-read", b"yes");
    }
    text();
    write(b"teapot\n");
}

fn route_log() {
    let info = log_enabled(LOG_INFO);
    if info {
        log(LOG_INFO, "conformance: hello from the guest");
    }
    set(Kind::Response, b"x-log-enabled", yes_no(info));
    set(Kind::Response, b"x-log-debug", yes_no(log_enabled(LOG_DEBUG)));
    text();
    write(b"logged\n");
}

fn route_rewrite() {
    let (method, target) = (b"PUT", b"/rewritten?by=guest");
    unsafe {
        abi::set_method(method.as_ptr(), method.len() as i32);
        abi::set_uri(target.as_ptr(), target.len() as i32);
    }
    set(Kind::Response, b"x-method", &read(abi::get_method));
    set(Kind::Response, b"x-uri", &read(abi::get_uri));
    text();
    write(b"rewritten\n");
}

fn route_trailers() {
    let on = unsafe { abi::enable_features(FEATURE_TRAILERS) } & FEATURE_TRAILERS != 0;
    set(Kind::Response, b"x-trailers", if on { b"on" } else { b"off" });
    text();
    copy_body();
    if let Some(sum) = values(Kind::RequestTrailers, b"x-checksum").first() {
        set(Kind::ResponseTrailers, b"x-checksum-echo", sum);
    }
    set(Kind::ResponseTrailers, b"x-trailer", b"done");
}

/// The request context handle_request passes with next, which
/// handle_response checks.
const NEXT_CONTEXT: i64 = 7;

#[no_mangle]
pub extern "C" fn handle_request() -> i64 {
    let uri = read(abi::get_uri);
    let path = match uri.iter().position(|&b| b == b'?') {
        Some(i) => &uri[..i],
        None => &uri[..],
    };
    match path {
        b"/hello" => {
            text();
            write(b"hello\n");
        }
        b"/request" => route_request(),
        b"/headers" => route_headers(),
        b"/echo" => {
            set(Kind::Response, b"content-type", b"application/octet-stream");
            copy_body();
        }
        b"/status" => route_status(),
        b"/config" => {
            let config = read(abi::get_config);
            text();
            write(&config);
        }
        b"/log" => route_log(),
        b"/rewrite" => route_rewrite(),
        b"/trailers" => route_trailers(),
        b"/next" => return NEXT_CONTEXT << 32 | 1,
        _ => {
            unsafe { abi::set_status_code(404) };
            text();
            write(b"not found\n");
        }
    }
    0
}

#[no_mangle]
pub extern "C" fn handle_response(req_ctx: i32, _is_error: i32) {
    if req_ctx as i64 != NEXT_CONTEXT {
        log(LOG_ERROR, "conformance: handle_response got the wrong request context");
    }
}
