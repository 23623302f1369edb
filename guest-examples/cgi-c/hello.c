// A CGI program for wasmserve: answers "hello, CGI" with the request's
// method, path and query, and echoes the body of a POST.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name) {
	const char *v = getenv(name);
	return v ? v : "";
}

int main(void) {
	printf("Content-Type: text/plain; charset=utf-8\r\n\r\n");
	printf("hello, CGI from C: %s %s", env("REQUEST_METHOD"), env("PATH_INFO"));
	if (*env("QUERY_STRING")) {
		printf("?%s", env("QUERY_STRING"));
	}
	printf("\n");
	if (strcmp(env("REQUEST_METHOD"), "POST") == 0) {
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
			fwrite(buf, 1, n, stdout);
		}
	}
	return 0;
}
