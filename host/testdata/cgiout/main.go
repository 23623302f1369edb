//go:build wasip1

// Command cgiout is a CGI test guest (a WASI command) that calls out: it
// GETs the URL given as ?url= with http.Get, through wasmserve_http, and
// answers its status and body. Built by the host tests with
// testguest.BuildCommand.
package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	_ "github.com/wasmserve/wasmserve/abi/guest/outbound"
)

func main() {
	q, _ := url.ParseQuery(os.Getenv("QUERY_STRING"))
	resp, err := http.Get(q.Get("url"))
	if err != nil {
		fmt.Print("Status: 502 Bad Gateway\r\nContent-Type: text/plain\r\n\r\n", err.Error())
		return
	}
	defer resp.Body.Close()
	fmt.Printf("Status: %d %s\r\nContent-Type: text/plain\r\n\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	io.Copy(os.Stdout, resp.Body)
}
