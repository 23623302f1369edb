// Command cgi-go is a CGI program for wasmserve's CGI executor: a plain
// main that reads the request from its environment and stdin and writes
// the response to stdout. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -o cgi-go.wasm ./guest-examples/cgi-go
//
// and serve it with `wasmserve serve cgi-go.wasm`.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	fmt.Print("Content-Type: text/plain; charset=utf-8\n\n")
	fmt.Printf("hello, CGI from Go: %s %s", os.Getenv("REQUEST_METHOD"), os.Getenv("PATH_INFO"))
	if q := os.Getenv("QUERY_STRING"); q != "" {
		fmt.Printf("?%s", q)
	}
	fmt.Println()
	if os.Getenv("REQUEST_METHOD") == "POST" {
		io.Copy(os.Stdout, os.Stdin)
	}
}
