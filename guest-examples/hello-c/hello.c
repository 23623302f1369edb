/*
 * hello.c: the hello example in C, on abi/c/http_handler.h. Answers
 * "Hello from wasmserve: <uri>\n" as text/plain, like hello-wat.
 *
 * Rebuild (Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32):
 *   clang --target=wasm32-wasi -O2 -mexec-model=reactor -I abi/c \
 *     -o guest-examples/hello-c/hello.wasm guest-examples/hello-c/hello.c
 */
#include "http_handler.h"

static char uri[16384];

HH_EXPORT("handle_request") int64_t handle_request(void) {
	static const char greeting[] = "Hello from wasmserve: ";
	hh_set_header(HH_HEADER_RESPONSE, "content-type", "text/plain; charset=utf-8");
	int32_t n = hh_get_uri(uri, sizeof uri);
	hh_write_body(HH_BODY_RESPONSE, greeting, sizeof greeting - 1);
	if (n <= (int32_t)sizeof uri)
		hh_write_body(HH_BODY_RESPONSE, uri, n);
	hh_write_body(HH_BODY_RESPONSE, "\n", 1);
	return HH_DONE;
}

HH_EXPORT("handle_response") void handle_response(int32_t req_ctx, int32_t is_error) {
	(void)req_ctx;
	(void)is_error;
}
