//go:build !linux

package server

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strconv"
)

// listenSocket binds with net.Listen. --backlog, --v6only and --shared are
// implemented for Linux only; elsewhere asking for them is an error rather
// than a silent no-op.
func listenSocket(ctx context.Context, res Resolved, port int, opts sockOptions) (net.Listener, error) {
	switch {
	case opts.backlog != 0:
		return nil, fmt.Errorf("Config.Backlog is %w (%s): wasmserve sets it on linux only", errUnsupported, runtime.GOOS)
	case opts.v6only:
		return nil, fmt.Errorf("Config.V6Only is %w (%s): wasmserve sets it on linux only; the address any6 binds IPv6 only", errUnsupported, runtime.GOOS)
	case opts.shared:
		return nil, fmt.Errorf("Config.Shared is %w (%s): wasmserve sets SO_REUSEPORT on linux only", errUnsupported, runtime.GOOS)
	}
	var lc net.ListenConfig
	return lc.Listen(ctx, res.Network, net.JoinHostPort(res.IP.String(), strconv.Itoa(port)))
}
