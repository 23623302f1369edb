/*
 * counter.c: a C guest of wasmserve_kv.h for the tests of host/ext/kv. Each
 * request increments the key "count" of the store "default" and answers the
 * sum as decimal text, or 503 with the host's error message.
 *
 *   clang --target=wasm32-wasi -O2 -mexec-model=reactor -I abi/c -o counter.wasm counter.c
 */
#include "http_handler.h"
#include "wasmserve_kv.h"

HH_EXPORT("handle_request") int64_t handle_request(void) {
	char buf[256];
	int64_t n = 0;
	int32_t store = kv_open_str("default");
	if (store < 0 || kv_increment_str(store, "count", 1, &n) < 0) {
		int32_t len = kv_get_error(buf, sizeof buf);
		hh_set_status_code(503);
		hh_write_body(HH_BODY_RESPONSE, buf, len <= (int32_t)sizeof buf ? len : 0);
		return 0;
	}
	int i = sizeof buf;
	do {
		buf[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	hh_write_body(HH_BODY_RESPONSE, buf + i, (int32_t)sizeof buf - i);
	return 0;
}

HH_EXPORT("handle_response") void handle_response(int32_t req_ctx, int32_t is_error) {}
