/*
 * router.c: the conformance router (conformance/README.md) in C, on
 * abi/c/http_handler.h. Every host function of the ABI is called by one of
 * its routes.
 *
 * Rebuild (Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32):
 *   clang --target=wasm32-wasi -O2 -mexec-model=reactor -I abi/c \
 *     -o guest-examples/router-c/router.wasm guest-examples/router-c/router.c
 */
#include "http_handler.h"

#define TEXT "text/plain; charset=utf-8"

static char uri[4096];
static char buf[16384];
static char names[8192];
static char values[8192];

/* put_value sets response header name to what get (a (buf, limit) host
 * function) returns. */
static void put_value(const char *name, int32_t (*get)(char *, int32_t)) {
	int32_t n = get(buf, sizeof buf);
	if (n > (int32_t)sizeof buf)
		n = 0;
	hh_set_header_value(HH_HEADER_RESPONSE, name, (int32_t)strlen(name), buf, n);
}

static void text(void) { hh_set_header(HH_HEADER_RESPONSE, "content-type", TEXT); }

static void route_request(void) {
	put_value("x-method", hh_get_method);
	put_value("x-uri", hh_get_uri);
	put_value("x-protocol", hh_get_protocol_version);
	put_value("x-source-addr", hh_get_source_addr);
	text();
	hh_write("ok\n");
}

/* route_headers changes the request headers, lists them in the body, and
 * sets, adds and removes response headers. */
static void route_headers(void) {
	hh_remove(HH_HEADER_REQUEST, "x-drop");
	hh_set_header(HH_HEADER_REQUEST, "x-set-by-guest", "yes");
	hh_add_header(HH_HEADER_REQUEST, "x-multi", "three");

	hh_set_header(HH_HEADER_RESPONSE, "x-set", "one");
	hh_add_header(HH_HEADER_RESPONSE, "x-add", "a");
	hh_add_header(HH_HEADER_RESPONSE, "x-add", "b");
	hh_set_header(HH_HEADER_RESPONSE, "x-removed", "gone");
	hh_remove(HH_HEADER_RESPONSE, "x-removed");
	text();

	int64_t r = hh_get_header_names(HH_HEADER_REQUEST, names, sizeof names);
	uint32_t len = HH_LEN(r);
	if (len > sizeof names) {
		hh_set_status_code(431);
		hh_write("too many headers\n");
		return;
	}
	for (uint32_t i = 0; i < len;) {
		const char *name = names + i;
		uint32_t nlen = (uint32_t)strlen(name);
		int64_t v = hh_get_header_values(HH_HEADER_REQUEST, name, (int32_t)nlen, values, sizeof values);
		if (HH_LEN(v) <= sizeof values) {
			for (uint32_t j = 0; j < HH_LEN(v);) {
				const char *value = values + j;
				hh_write_body(HH_BODY_RESPONSE, name, (int32_t)nlen);
				hh_write(": ");
				hh_write(value);
				hh_write("\n");
				j += (uint32_t)strlen(value) + 1;
			}
		}
		i += nlen + 1;
	}
}

/* copy_body streams the request body to the response body. */
static void copy_body(void) {
	for (;;) {
		int64_t r = hh_read_body(HH_BODY_REQUEST, buf, sizeof buf);
		if (HH_LEN(r) > 0)
			hh_write_body(HH_BODY_RESPONSE, buf, (int32_t)HH_LEN(r));
		if (HH_EOF(r))
			return;
	}
}

static void route_echo(void) {
	hh_set_header(HH_HEADER_RESPONSE, "content-type", "application/octet-stream");
	copy_body();
}

static void route_status(void) {
	hh_set_status_code(418);
	if (hh_get_status_code() == 418)
		hh_set_header(HH_HEADER_RESPONSE, "x-status-read", "yes");
	text();
	hh_write("teapot\n");
}

static void route_config(void) {
	int32_t n = hh_get_config(buf, sizeof buf);
	text();
	if (n <= (int32_t)sizeof buf)
		hh_write_body(HH_BODY_RESPONSE, buf, n);
}

static void route_log(void) {
	int info = hh_log_enabled(HH_LOG_INFO);
	hh_log_string(HH_LOG_INFO, "conformance: hello from the guest");
	hh_set_header(HH_HEADER_RESPONSE, "x-log-enabled", info ? "yes" : "no");
	hh_set_header(HH_HEADER_RESPONSE, "x-log-debug", hh_log_enabled(HH_LOG_DEBUG) ? "yes" : "no");
	text();
	hh_write("logged\n");
}

static void route_rewrite(void) {
	static const char method[] = "PUT", target[] = "/rewritten?by=guest";
	hh_set_method(method, sizeof method - 1);
	hh_set_uri(target, sizeof target - 1);
	put_value("x-method", hh_get_method);
	put_value("x-uri", hh_get_uri);
	text();
	hh_write("rewritten\n");
}

static void route_trailers(void) {
	int32_t on = hh_enable_features(HH_FEATURE_TRAILERS);
	hh_set_header(HH_HEADER_RESPONSE, "x-trailers", (on & HH_FEATURE_TRAILERS) ? "on" : "off");
	text();
	copy_body();
	char sum[256];
	if (hh_header_value(HH_HEADER_REQUEST_TRAILERS, "x-checksum", sum, sizeof sum) >= 0)
		hh_set_header(HH_HEADER_RESPONSE_TRAILERS, "x-checksum-echo", sum);
	hh_set_header(HH_HEADER_RESPONSE_TRAILERS, "x-trailer", "done");
}

HH_EXPORT("handle_request") int64_t handle_request(void) {
	int32_t n = hh_get_uri(uri, sizeof uri);
	if (n > (int32_t)sizeof uri)
		n = 0; /* longer than any route */
	if (hh_path_is(uri, n, "/hello")) {
		text();
		hh_write("hello\n");
	} else if (hh_path_is(uri, n, "/request")) {
		route_request();
	} else if (hh_path_is(uri, n, "/headers")) {
		route_headers();
	} else if (hh_path_is(uri, n, "/echo")) {
		route_echo();
	} else if (hh_path_is(uri, n, "/status")) {
		route_status();
	} else if (hh_path_is(uri, n, "/config")) {
		route_config();
	} else if (hh_path_is(uri, n, "/log")) {
		route_log();
	} else if (hh_path_is(uri, n, "/rewrite")) {
		route_rewrite();
	} else if (hh_path_is(uri, n, "/trailers")) {
		route_trailers();
	} else if (hh_path_is(uri, n, "/next")) {
		return HH_NEXT(7);
	} else {
		hh_set_status_code(404);
		text();
		hh_write("not found\n");
	}
	return HH_DONE;
}

HH_EXPORT("handle_response") void handle_response(int32_t req_ctx, int32_t is_error) {
	(void)is_error;
	if (req_ctx != 7)
		hh_log_string(HH_LOG_ERROR, "conformance: handle_response got the wrong request context");
}
