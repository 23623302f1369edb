// Command native is the baseline of the load benchmarks: the hello handler
// written directly against net/http, answering exactly what the hello
// guests answer.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
)

// Hello answers "Hello from wasmserve: <uri>\n" as the hello guests do.
func Hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "Hello from wasmserve: "+r.URL.RequestURI()+"\n")
}

func main() {
	addr := flag.String("address", "127.0.0.1:0", "listen address")
	portFile := flag.String("port-file", "", "write the bound port here")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *portFile != "" {
		port := ln.Addr().(*net.TCPAddr).Port
		if err := os.WriteFile(*portFile, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Fprintln(os.Stderr, "native hello listening on", ln.Addr())
	log.Fatal(http.Serve(ln, http.HandlerFunc(Hello)))
}
