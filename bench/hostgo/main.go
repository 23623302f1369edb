// Command hostgo is the "same guest, other host" baseline of the load
// benchmarks: it serves the http-wasm guest named by its argument through
// github.com/http-wasm/http-wasm-host-go (bench/internal/hostgo), with the
// library's defaults, in an http.Server with the connection timeouts
// bench/native and wasmserve serve with (10 s to read headers, 120 s idle),
// so that it and wasmserve differ only in the host of the same guest.
//
//	hostgo [-address 127.0.0.1] [-port 0] [-port-file FILE] guest.wasm
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/wasmserve/wasmserve/bench/internal/hostgo"
)

func main() {
	addr := flag.String("address", "127.0.0.1", "listen address")
	port := flag.Int("port", 0, "listen port; 0 picks a free one")
	portFile := flag.String("port-file", os.Getenv("WASMSERVE_PORT_FILE"), "write the bound port here (default $WASMSERVE_PORT_FILE)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: hostgo [flags] guest.wasm")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	guest, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	h, err := hostgo.New(context.Background(), guest)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*addr, strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	if *portFile != "" {
		bound := ln.Addr().(*net.TCPAddr).Port
		if err := os.WriteFile(*portFile, []byte(strconv.Itoa(bound)+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Fprintln(os.Stderr, "http-wasm-host-go serving", flag.Arg(0), "on", ln.Addr())
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Fatal(srv.Serve(ln))
}
