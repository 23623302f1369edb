/*
 * wasmserve_kv.h: wasmserve's key-value stores for C guests, the
 * "wasmserve_kv" import module (docs/kv.md is its specification).
 *
 * Every host function is declared here under its name with a kv_ prefix,
 * with the error codes and a few inline helpers for NUL-terminated strings.
 * A store is opened by the name the server gives it (wasmserve serve
 * --kv-store default=file:kv.db):
 *
 *   int32_t store = kv_open_str("default");        // < 0: a KV_ERR_ code
 *   int64_t count;
 *   if (kv_increment_str(store, "count", 1, &count) < 0) { ... kv_get_error ... }
 *
 * Build as for http_handler.h, with -I abi/c. A guest that includes this
 * header but calls none of its functions imports nothing from wasmserve_kv.
 *
 * Buffers: kv_get and kv_keys given a buf_limit smaller than the result
 * write nothing and return its full length; the host keeps the result, so
 * the next identical call with a large enough buffer gets the same one.
 * kv_keys' result is taken apart with KV_COUNT and KV_LEN.
 */
#ifndef WASMSERVE_KV_H
#define WASMSERVE_KV_H

#include <stdint.h>
#include <string.h>

#define KV_IMPORT(name) __attribute__((import_module("wasmserve_kv"), import_name(name)))

/* Error codes: every failure is negative (docs/kv.md, "Error codes"). */
typedef enum {
	KV_ERR_NOT_FOUND = -1,   /* get: no value under the key */
	KV_ERR_NO_STORE = -2,    /* open: no store of this name is configured */
	KV_ERR_INVALID = -3,     /* invalid key, prefix, cursor, TTL or flags */
	KV_ERR_TOO_BIG = -4,     /* the value is over the server's largest */
	KV_ERR_QUOTA = -5,       /* the store holds as many keys as it may */
	KV_ERR_HANDLE = -6,      /* no store has this handle */
	KV_ERR_NOT_NUMBER = -7,  /* increment of a value that is not a decimal integer */
	KV_ERR_UNAVAILABLE = -8, /* the store failed or cannot be reached */
	KV_ERR_TIMEOUT = -9,     /* the operation's deadline passed */
	KV_ERR_NO_REQUEST = -10, /* no request in flight (a start function may only open) */
} kv_error;

/* Flags of kv_compare_and_swap. */
#define KV_CAS_OLD_ABSENT 1 /* swap only when the key is absent; old is ignored */

/* The longest key, and the most keys in one page of kv_keys. */
#define KV_MAX_KEY_LEN 255
#define KV_PAGE_SIZE 100

/* kv_keys' packed result: the number of keys and the page's length. */
#define KV_COUNT(r) ((uint32_t)((uint64_t)(r) >> 32))
#define KV_LEN(r) ((uint32_t)(r))

KV_IMPORT("open") int32_t kv_open(const char *name, int32_t name_len);
KV_IMPORT("get") int64_t kv_get(int32_t store, const char *key, int32_t key_len, void *buf, int32_t buf_limit);
KV_IMPORT("set") int32_t kv_set(int32_t store, const char *key, int32_t key_len, const void *value, int32_t value_len, int64_t ttl_ms);
KV_IMPORT("delete") int32_t kv_delete(int32_t store, const char *key, int32_t key_len);
KV_IMPORT("exists") int32_t kv_exists(int32_t store, const char *key, int32_t key_len);
KV_IMPORT("keys") int64_t kv_keys(int32_t store, const char *prefix, int32_t prefix_len, const char *cursor, int32_t cursor_len, char *buf, int32_t buf_limit);
KV_IMPORT("increment") int32_t kv_increment(int32_t store, const char *key, int32_t key_len, int64_t delta, int64_t *result);
KV_IMPORT("compare_and_swap") int32_t kv_compare_and_swap(int32_t store, const char *key, int32_t key_len, const void *old, int32_t old_len, const void *new_value, int32_t new_len, int32_t flags);
KV_IMPORT("get_error") int32_t kv_get_error(char *buf, int32_t buf_limit);

/* Helpers for NUL-terminated names and keys. */
static inline int32_t kv_open_str(const char *name) { return kv_open(name, (int32_t)strlen(name)); }
static inline int64_t kv_get_str(int32_t store, const char *key, void *buf, int32_t buf_limit) {
	return kv_get(store, key, (int32_t)strlen(key), buf, buf_limit);
}
static inline int32_t kv_set_str(int32_t store, const char *key, const char *value) {
	return kv_set(store, key, (int32_t)strlen(key), value, (int32_t)strlen(value), 0);
}
static inline int32_t kv_delete_str(int32_t store, const char *key) { return kv_delete(store, key, (int32_t)strlen(key)); }
static inline int32_t kv_exists_str(int32_t store, const char *key) { return kv_exists(store, key, (int32_t)strlen(key)); }
static inline int32_t kv_increment_str(int32_t store, const char *key, int64_t delta, int64_t *result) {
	return kv_increment(store, key, (int32_t)strlen(key), delta, result);
}

#endif
