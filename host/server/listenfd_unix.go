//go:build unix

package server

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
)

// listenFD serves on an inherited listening socket, file descriptor fd.
// It works on a duplicate, so a descriptor that turns out not to be a TCP
// listener (say, stderr) is left open and untouched; on success the
// original is closed, as the listener now owns the socket.
func listenFD(fd int) (net.Listener, error) {
	if fd < 0 {
		return nil, fmt.Errorf("listen fd %d is negative", fd)
	}
	dup, err := syscall.Dup(fd)
	if err != nil {
		return nil, fmt.Errorf("listen fd %d is not a listening socket: %w", fd, err)
	}
	syscall.CloseOnExec(dup)
	f := os.NewFile(uintptr(dup), "listen-fd-"+strconv.Itoa(fd))
	defer f.Close() // FileListener holds its own duplicate
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("listen fd %d is not a listening socket: %w", fd, err)
	}
	if _, ok := ln.Addr().(*net.TCPAddr); !ok {
		ln.Close()
		return nil, fmt.Errorf("listen fd %d is not a listening socket: it is %s, not TCP", fd, ln.Addr().Network())
	}
	syscall.Close(fd)
	return ln, nil
}
