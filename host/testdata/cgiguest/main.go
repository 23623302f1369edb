// Command cgiguest is the CGI test guest of host's tests: what it answers
// depends on PATH_INFO. Built by the tests as a WASI command.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

func main() {
	q := os.Getenv("QUERY_STRING")
	switch os.Getenv("PATH_INFO") {
	case "/env", "/env/a/b": // every variable, one KEY=VALUE a line, sorted
		env := os.Environ()
		sort.Strings(env)
		fmt.Print("Content-Type: text/plain\n\n" + strings.Join(env, "\n") + "\n")
	case "/echo": // the body back, with its length
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "reading stdin:", err)
			os.Exit(1)
		}
		fmt.Printf("Content-Type: application/octet-stream\nX-Query: %s\nX-Length: %d\n\n", q, len(b))
		os.Stdout.Write(b)
	case "/status":
		fmt.Print("Status: 404 Not Found\r\nContent-Type: text/html\r\nX-Extra: yes\r\n\r\n<h1>gone</h1>\n")
	case "/local":
		fmt.Print("Location: /env?from=local\n\n")
	case "/loop":
		fmt.Print("Location: /loop\n\n")
	case "/remote":
		fmt.Print("Location: https://example.com/elsewhere\n\n")
	case "/remote-doc":
		fmt.Print("Status: 301 Moved Permanently\nLocation: https://example.com/moved\nContent-Type: text/plain\n\nmoved\n")
	case "/malformed":
		fmt.Print("this is not a header\n\nbody\n")
	case "/noblank":
		fmt.Print("Content-Type: text/plain\n")
	case "/nothing":
	case "/fail-before":
		fmt.Fprintln(os.Stderr, "failing before any output")
		os.Exit(3)
	case "/fail-after":
		fmt.Print("Content-Type: text/plain\n\npartial ")
		time.Sleep(50 * time.Millisecond) // the partial body is flushed
		os.Exit(4)
	case "/stream":
		fmt.Print("Content-Type: text/plain\n\nfirst\n")
		time.Sleep(time.Second)
		fmt.Print("second\n")
	case "/ignore": // never reads stdin
		fmt.Print("Content-Type: text/plain\n\nignored\n")
	case "/stderr":
		fmt.Fprintln(os.Stderr, "a line on stderr "+q)
		fmt.Print("Content-Type: text/plain\n\nlogged\n")
	case "/state": // a global a reused instance would keep
		counter++
		fmt.Printf("Content-Type: text/plain\n\n%d\n", counter)
	default:
		fmt.Print("Status: 400 Bad Request\nContent-Type: text/plain\n\nunknown path\n")
	}
}

var counter int
