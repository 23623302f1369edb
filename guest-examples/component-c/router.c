// A wasi:http/proxy component in C: a small router on the canonical ABI
// of wasi:http 0.2 directly, no generated bindings. Built with wasi-libc
// (malloc, snprintf, stderr) and made a component by jco with the WASI
// preview1 reactor adapter (see README.md).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP "wasi:http/types@0.2.12"
#define IO "wasi:io/streams@0.2.12"
#define IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

typedef int32_t handle;

// The return areas of the functions whose results do not fit one core
// value, as the canonical ABI lays them out.
typedef struct {
  uint8_t tag; // result/option/variant discriminant
  uint32_t a;  // first payload word: a handle, a pointer, a case
  uint32_t b;  // second: a length
} ret3;

typedef struct {
  const uint8_t *ptr;
  size_t len;
} bytes;

IMPORT(HTTP, "[method]incoming-request.method") void request_method(handle req, ret3 *ret);
IMPORT(HTTP, "[method]incoming-request.path-with-query") void request_path(handle req, ret3 *ret);
IMPORT(HTTP, "[method]incoming-request.headers") handle request_headers(handle req);
IMPORT(HTTP, "[method]incoming-request.consume") void request_consume(handle req, ret3 *ret);
IMPORT(HTTP, "[resource-drop]incoming-request") void drop_request(handle req);
IMPORT(HTTP, "[method]incoming-body.stream") void incoming_body_stream(handle body, ret3 *ret);
IMPORT(HTTP, "[static]incoming-body.finish") handle incoming_body_finish(handle body);
IMPORT(HTTP, "[resource-drop]future-trailers") void drop_future_trailers(handle f);
IMPORT(HTTP, "[constructor]fields") handle fields_new(void);
IMPORT(HTTP, "[method]fields.get") void fields_get(handle f, const char *name, size_t len, bytes *ret);
IMPORT(HTTP, "[method]fields.append")
void fields_append(handle f, const char *name, size_t name_len, const char *value, size_t value_len, ret3 *ret);
IMPORT(HTTP, "[resource-drop]fields") void drop_fields(handle f);
IMPORT(HTTP, "[constructor]outgoing-response") handle response_new(handle headers);
IMPORT(HTTP, "[method]outgoing-response.set-status-code") int32_t response_set_status(handle resp, int32_t status);
IMPORT(HTTP, "[method]outgoing-response.body") void response_body(handle resp, ret3 *ret);
IMPORT(HTTP, "[method]outgoing-body.write") void outgoing_body_write(handle body, ret3 *ret);
IMPORT(HTTP, "[static]outgoing-body.finish")
void outgoing_body_finish(handle body, int32_t has_trailers, handle trailers, ret3 *ret);
// set(param, result<outgoing-response, error-code>): the result flattens
// to a discriminant and the seven words of error-code's largest case.
IMPORT(HTTP, "[static]response-outparam.set")
void outparam_set(handle out, int32_t is_err, int32_t a, int32_t b, int64_t c, int32_t d, int32_t e, int32_t f,
                  int32_t g);
IMPORT(IO, "[method]input-stream.blocking-read") void stream_read(handle in, int64_t len, ret3 *ret);
IMPORT(IO, "[method]output-stream.blocking-write-and-flush")
void stream_write(handle out, const void *buf, size_t len, ret3 *ret);
IMPORT(IO, "[resource-drop]input-stream") void drop_input_stream(handle s);
IMPORT(IO, "[resource-drop]output-stream") void drop_output_stream(handle s);

// cabi_realloc is how the host allocates the strings and lists it
// returns.
__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *ptr, size_t old_size, size_t align,
                                                                 size_t new_size) {
  (void)old_size;
  if (new_size == 0) {
    return (void *)align;
  }
  void *p = realloc(ptr, new_size);
  if (p == NULL) {
    abort();
  }
  return p;
}

static void header(handle h, const char *name, const char *value) {
  ret3 r;
  fields_append(h, name, strlen(name), value, strlen(value), &r);
}

// respond sets the outparam to a response and returns its body's stream;
// *body receives the outgoing-body to finish.
static handle respond(handle out, int status, const char *type, handle headers, handle *body) {
  if (headers == 0) {
    headers = fields_new();
  }
  header(headers, "content-type", type);
  handle resp = response_new(headers);
  response_set_status(resp, status);
  ret3 r;
  response_body(resp, &r);
  *body = (handle)r.a;
  outgoing_body_write(*body, &r);
  handle stream = (handle)r.a;
  outparam_set(out, 0, resp, 0, 0, 0, 0, 0, 0);
  return stream;
}

static void write_all(handle stream, const void *buf, size_t len) {
  const uint8_t *p = buf;
  while (len > 0) {
    size_t n = len > 4096 ? 4096 : len; // blocking-write-and-flush takes at most 4096
    ret3 r;
    stream_write(stream, p, n, &r);
    if (r.tag != 0) {
      abort();
    }
    p += n;
    len -= n;
  }
}

static void finish(handle stream, handle body) {
  ret3 r;
  drop_output_stream(stream);
  outgoing_body_finish(body, 0, 0, &r);
}

static void text(handle out, int status, const char *msg, handle headers) {
  handle body;
  handle s = respond(out, status, "text/plain", headers, &body);
  write_all(s, msg, strlen(msg));
  finish(s, body);
}

// echo streams the request body into the response body.
static void echo(handle req, handle out) {
  ret3 r;
  request_consume(req, &r);
  handle in_body = (handle)r.a;
  incoming_body_stream(in_body, &r);
  handle in = (handle)r.a;
  handle out_body;
  handle s = respond(out, 200, "application/octet-stream", 0, &out_body);
  for (;;) {
    stream_read(in, 16384, &r);
    if (r.tag != 0) {
      break; // closed: the end (or a failed read: the response ends short)
    }
    write_all(s, (const void *)(uintptr_t)r.a, r.b);
    free((void *)(uintptr_t)r.a);
  }
  drop_input_stream(in);
  drop_future_trailers(incoming_body_finish(in_body));
  finish(s, out_body);
}

__attribute__((export_name("wasi:http/incoming-handler@0.2.12#handle"))) void handle_request(handle req,
                                                                                           handle out) {
  ret3 r;
  request_method(req, &r);
  int method = r.tag; // 0 get, 2 post
  request_path(req, &r);
  char *path = malloc(r.b + 1);
  memcpy(path, (const void *)(uintptr_t)r.a, r.b);
  path[r.b] = 0;
  free((void *)(uintptr_t)r.a);
  size_t plen = strcspn(path, "?");

  char buf[512];
  if (method == 2 && strncmp(path, "/echo", plen) == 0 && plen == 5) {
    echo(req, out);
  } else if (method != 0) {
    text(out, 405, "method not allowed\n", 0);
  } else if (plen == 7 && strncmp(path, "/teapot", 7) == 0) {
    text(out, 418, "short and stout\n", 0);
  } else if (plen == 8 && strncmp(path, "/headers", 8) == 0) {
    handle h = request_headers(req);
    bytes vs;
    fields_get(h, "x-test", 6, &vs);
    int n = snprintf(buf, sizeof buf, "x-test values: %zu\n", vs.len);
    const bytes *v = (const bytes *)vs.ptr;
    for (size_t i = 0; i < vs.len && n < (int)sizeof buf; i++) {
      n += snprintf(buf + n, sizeof buf - n, "x-test: %.*s\n", (int)v[i].len, (const char *)v[i].ptr);
    }
    drop_fields(h);
    handle rh = fields_new();
    header(rh, "x-multi", "one");
    header(rh, "x-multi", "two");
    text(out, 200, buf, rh);
  } else if (plen == 4 && strncmp(path, "/log", 4) == 0) {
    fprintf(stderr, "component-c: hello from the guest\n");
    text(out, 200, "logged\n", 0);
  } else {
    snprintf(buf, sizeof buf, "hello from C: %s\n", path);
    text(out, 200, buf, 0);
  }
  free(path);
  drop_request(req);
}
