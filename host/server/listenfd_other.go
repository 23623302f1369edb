//go:build !unix

package server

import (
	"fmt"
	"net"
	"runtime"
)

// listenFD is unsupported off Unix: there are no inherited descriptors.
func listenFD(fd int) (net.Listener, error) {
	return nil, fmt.Errorf("Config.ListenFD %d is %w (%s): inherited sockets need a Unix system", fd, errUnsupported, runtime.GOOS)
}
