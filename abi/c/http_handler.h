/*
 * http_handler.h: the http-wasm HTTP handler ABI (https://http-wasm.io) for
 * C guests of wasmserve, or of any http-wasm host.
 *
 * Every host function of the "http_handler" import module is declared here
 * under its ABI name with an hh_ prefix, with the enums of the ABI and a few
 * inline helpers for NUL-terminated strings. The guest defines the two
 * exports itself:
 *
 *   HH_EXPORT("handle_request") int64_t handle_request(void);
 *   HH_EXPORT("handle_response") void handle_response(int32_t req_ctx, int32_t is_error);
 *
 * Build a reactor module with Debian's clang, lld and wasi-libc
 * (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32):
 *
 *   clang --target=wasm32-wasi -O2 -mexec-model=reactor -I abi/c -o handler.wasm handler.c
 *
 * Buffers: a get_ function given a buf_limit smaller than the value writes
 * nothing and returns the value's full length, so call again with a larger
 * buffer (or pass 0 to ask the length). Results packed in an int64_t are
 * taken apart with HH_COUNT, HH_LEN and HH_EOF.
 */
#ifndef HTTP_HANDLER_H
#define HTTP_HANDLER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HH_IMPORT(name) __attribute__((import_module("http_handler"), import_name(name)))
#define HH_EXPORT(name) __attribute__((export_name(name)))

/* Header kinds. */
typedef enum {
	HH_HEADER_REQUEST = 0,
	HH_HEADER_RESPONSE = 1,
	HH_HEADER_REQUEST_TRAILERS = 2,
	HH_HEADER_RESPONSE_TRAILERS = 3,
} hh_header_kind;

/* Body kinds. */
typedef enum {
	HH_BODY_REQUEST = 0,
	HH_BODY_RESPONSE = 1,
} hh_body_kind;

/* Features for hh_enable_features (a bit set). */
typedef enum {
	HH_FEATURE_BUFFER_REQUEST = 1,
	HH_FEATURE_BUFFER_RESPONSE = 2,
	HH_FEATURE_TRAILERS = 4,
} hh_feature;

/* Log levels. */
typedef enum {
	HH_LOG_DEBUG = -1,
	HH_LOG_INFO = 0,
	HH_LOG_WARN = 1,
	HH_LOG_ERROR = 2,
	HH_LOG_NONE = 3,
} hh_log_level;

/* handle_request results: the request context goes in the upper 32 bits,
 * next in the lowest. */
#define HH_DONE ((int64_t)0)
#define HH_NEXT(req_ctx) (((int64_t)(uint32_t)(req_ctx) << 32) | 1)

/* Parts of the int64_t results of get_header_names, get_header_values and
 * read_body. */
#define HH_COUNT(r) ((uint32_t)((uint64_t)(r) >> 32))
#define HH_LEN(r) ((uint32_t)(r))
#define HH_EOF(r) (((uint64_t)(r) >> 32) != 0)

HH_IMPORT("enable_features") int32_t hh_enable_features(int32_t features);
HH_IMPORT("get_config") int32_t hh_get_config(char *buf, int32_t buf_limit);
HH_IMPORT("log_enabled") int32_t hh_log_enabled(int32_t level);
HH_IMPORT("log") void hh_log(int32_t level, const char *msg, int32_t msg_len);
HH_IMPORT("get_method") int32_t hh_get_method(char *buf, int32_t buf_limit);
HH_IMPORT("set_method") void hh_set_method(const char *method, int32_t method_len);
HH_IMPORT("get_uri") int32_t hh_get_uri(char *buf, int32_t buf_limit);
HH_IMPORT("set_uri") void hh_set_uri(const char *uri, int32_t uri_len);
HH_IMPORT("get_protocol_version") int32_t hh_get_protocol_version(char *buf, int32_t buf_limit);
HH_IMPORT("get_source_addr") int32_t hh_get_source_addr(char *buf, int32_t buf_limit);
HH_IMPORT("get_header_names") int64_t hh_get_header_names(int32_t kind, char *buf, int32_t buf_limit);
HH_IMPORT("get_header_values") int64_t hh_get_header_values(int32_t kind, const char *name, int32_t name_len, char *buf, int32_t buf_limit);
HH_IMPORT("set_header_value") void hh_set_header_value(int32_t kind, const char *name, int32_t name_len, const char *value, int32_t value_len);
HH_IMPORT("add_header_value") void hh_add_header_value(int32_t kind, const char *name, int32_t name_len, const char *value, int32_t value_len);
HH_IMPORT("remove_header") void hh_remove_header(int32_t kind, const char *name, int32_t name_len);
HH_IMPORT("read_body") int64_t hh_read_body(int32_t kind, char *buf, int32_t buf_limit);
HH_IMPORT("write_body") void hh_write_body(int32_t kind, const char *body, int32_t body_len);
HH_IMPORT("get_status_code") int32_t hh_get_status_code(void);
HH_IMPORT("set_status_code") void hh_set_status_code(int32_t status_code);

/* Helpers for NUL-terminated strings. */

/* hh_set_header replaces the values of header name of kind with value. */
static inline void hh_set_header(hh_header_kind kind, const char *name, const char *value) {
	hh_set_header_value(kind, name, (int32_t)strlen(name), value, (int32_t)strlen(value));
}

/* hh_add_header adds value to header name of kind. */
static inline void hh_add_header(hh_header_kind kind, const char *name, const char *value) {
	hh_add_header_value(kind, name, (int32_t)strlen(name), value, (int32_t)strlen(value));
}

/* hh_remove removes header name of kind. */
static inline void hh_remove(hh_header_kind kind, const char *name) {
	hh_remove_header(kind, name, (int32_t)strlen(name));
}

/* hh_write appends s to the response body. */
static inline void hh_write(const char *s) {
	hh_write_body(HH_BODY_RESPONSE, s, (int32_t)strlen(s));
}

/* hh_log_string logs s at level when the host records that level. */
static inline void hh_log_string(hh_log_level level, const char *s) {
	if (hh_log_enabled(level))
		hh_log(level, s, (int32_t)strlen(s));
}

/* hh_path_is reports whether the request target uri (uri_len bytes, as
 * get_uri gives it) has the path path: equal to it, or followed by a query. */
static inline int hh_path_is(const char *uri, int32_t uri_len, const char *path) {
	int32_t n = (int32_t)strlen(path);
	return uri_len >= n && memcmp(uri, path, (size_t)n) == 0 && (uri_len == n || uri[n] == '?');
}

/* hh_header_value reads the first value of header name of kind into buf
 * NUL-terminated and returns its length, or -1 when the header is absent or
 * its values do not fit in buf_size-1 bytes. */
static inline int32_t hh_header_value(hh_header_kind kind, const char *name, char *buf, int32_t buf_size) {
	int64_t r = hh_get_header_values(kind, name, (int32_t)strlen(name), buf, buf_size - 1);
	if (HH_COUNT(r) == 0)
		return -1;
	if (HH_LEN(r) > (uint32_t)(buf_size - 1)) {
		buf[0] = 0;
		return -1;
	}
	/* values are NUL-terminated: the first one ends at the first NUL */
	buf[HH_LEN(r)] = 0;
	return (int32_t)strlen(buf);
}

#endif /* HTTP_HANDLER_H */
