package wasip2

import (
	"context"
	"fmt"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// The wasi:sockets resource types. Sockets are denied: no socket is ever
// created, and the network handle instance-network gives grants nothing.
var (
	NetworkType                = &cabi.Resource{Name: "network"}
	TCPSocketType              = &cabi.Resource{Name: "tcp-socket"}
	UDPSocketType              = &cabi.Resource{Name: "udp-socket"}
	IncomingDatagramStreamType = &cabi.Resource{Name: "incoming-datagram-stream"}
	OutgoingDatagramStreamType = &cabi.Resource{Name: "outgoing-datagram-stream"}
	ResolveAddressStreamType   = &cabi.Resource{Name: "resolve-address-stream"}
)

// SocketsErrorCodeType is wasi:sockets/network's error-code.
var SocketsErrorCodeType = enumType("error-code",
	"unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory", "timeout",
	"concurrency-conflict", "not-in-progress", "would-block", "invalid-state", "new-socket-limit",
	"address-not-bindable", "address-in-use", "remote-unreachable", "connection-refused",
	"connection-reset", "connection-aborted", "datagram-too-large", "name-unresolvable",
	"temporary-resolver-failure", "permanent-resolver-failure",
)

var accessDenied = labelIndex(SocketsErrorCodeType, "access-denied")

// network is the Go value of the network handle: it grants nothing.
type network struct{}

func socketNames() names {
	ipv4 := cabi.TupleOf(cabi.U8Type, cabi.U8Type, cabi.U8Type, cabi.U8Type)
	u16 := cabi.U16Type
	ipv6 := cabi.TupleOf(u16, u16, u16, u16, u16, u16, u16, u16)
	sock4 := recordType("ipv4-socket-address",
		cabi.Field{Name: "port", Type: cabi.U16Type}, cabi.Field{Name: "address", Type: ipv4})
	sock6 := recordType("ipv6-socket-address",
		cabi.Field{Name: "port", Type: cabi.U16Type}, cabi.Field{Name: "flow-info", Type: cabi.U32Type},
		cabi.Field{Name: "address", Type: ipv6}, cabi.Field{Name: "scope-id", Type: cabi.U32Type})
	sockAddr := variantType("ip-socket-address", cabi.Case{Name: "ipv4", Type: sock4}, cabi.Case{Name: "ipv6", Type: sock6})
	return names{
		"pollable": PollableType, "input-stream": InputStreamType, "output-stream": OutputStreamType, "error": ErrorType,
		"network": NetworkType, "tcp-socket": TCPSocketType, "udp-socket": UDPSocketType,
		"incoming-datagram-stream": IncomingDatagramStreamType, "outgoing-datagram-stream": OutgoingDatagramStreamType,
		"resolve-address-stream": ResolveAddressStreamType,
		"error-code":             SocketsErrorCodeType,
		"duration":               cabi.U64Type,
		"ip-address-family":      enumType("ip-address-family", "ipv4", "ipv6"),
		"ip-address":             variantType("ip-address", cabi.Case{Name: "ipv4", Type: ipv4}, cabi.Case{Name: "ipv6", Type: ipv6}),
		"ip-socket-address":      sockAddr,
		"shutdown-type":          enumType("shutdown-type", "receive", "send", "both"),
		"incoming-datagram": recordType("incoming-datagram",
			cabi.Field{Name: "data", Type: cabi.ListOf(cabi.U8Type)}, cabi.Field{Name: "remote-address", Type: sockAddr}),
		"outgoing-datagram": recordType("outgoing-datagram",
			cabi.Field{Name: "data", Type: cabi.ListOf(cabi.U8Type)}, cabi.Field{Name: "remote-address", Type: cabi.OptionOf(sockAddr)}),
	}
}

// denied answers a function of wasi:sockets by its result type:
// error-code access-denied for a result, a pollable always ready, the
// zero value otherwise (is-listening is false).
func denied(f *component.HostFunc) *component.HostFunc {
	var answer any
	if len(f.Results) == 1 {
		switch r := f.Results[0]; {
		case r.Kind == cabi.KindResult && r.Err == SocketsErrorCodeType:
			answer = cabi.Result{Err: true, Value: accessDenied}
		case r.Kind == cabi.KindOwn && r.Resource == PollableType:
			answer = ReadyPollable()
		case r.Kind == cabi.KindBool:
			answer = false
		case r.Kind == cabi.KindEnum:
			answer = uint32(0)
		case r.Kind == cabi.KindOption:
			answer = cabi.Option{}
		default:
			panic(fmt.Sprintf("wasip2: no denial for a function returning %s", r))
		}
	}
	f.Call = func(context.Context, []any) ([]any, error) {
		if answer == nil {
			return nil, nil
		}
		return []any{answer}, nil
	}
	return f
}

func defineSockets(h *component.Host, _ *Config) error {
	ns := socketNames()
	method := func(r *cabi.Resource, sig string) *component.HostFunc { return denied(ns.method(r, sig, nil)) }
	fn := func(sig string) *component.HostFunc { return denied(ns.fn(sig, nil)) }
	methods := func(r *cabi.Resource, sigs map[string]string) map[string]*component.HostFunc {
		out := map[string]*component.HostFunc{}
		for name, sig := range sigs {
			out["[method]"+r.Name+"."+name] = method(r, sig)
		}
		return out
	}
	tcp := methods(TCPSocketType, map[string]string{
		"start-bind":               "func(network: borrow<network>, local-address: ip-socket-address) -> result<_, error-code>",
		"finish-bind":              "func() -> result<_, error-code>",
		"start-connect":            "func(network: borrow<network>, remote-address: ip-socket-address) -> result<_, error-code>",
		"finish-connect":           "func() -> result<tuple<input-stream, output-stream>, error-code>",
		"start-listen":             "func() -> result<_, error-code>",
		"finish-listen":            "func() -> result<_, error-code>",
		"accept":                   "func() -> result<tuple<tcp-socket, input-stream, output-stream>, error-code>",
		"local-address":            "func() -> result<ip-socket-address, error-code>",
		"remote-address":           "func() -> result<ip-socket-address, error-code>",
		"is-listening":             "func() -> bool",
		"address-family":           "func() -> ip-address-family",
		"set-listen-backlog-size":  "func(value: u64) -> result<_, error-code>",
		"keep-alive-enabled":       "func() -> result<bool, error-code>",
		"set-keep-alive-enabled":   "func(value: bool) -> result<_, error-code>",
		"keep-alive-idle-time":     "func() -> result<duration, error-code>",
		"set-keep-alive-idle-time": "func(value: duration) -> result<_, error-code>",
		"keep-alive-interval":      "func() -> result<duration, error-code>",
		"set-keep-alive-interval":  "func(value: duration) -> result<_, error-code>",
		"keep-alive-count":         "func() -> result<u32, error-code>",
		"set-keep-alive-count":     "func(value: u32) -> result<_, error-code>",
		"hop-limit":                "func() -> result<u8, error-code>",
		"set-hop-limit":            "func(value: u8) -> result<_, error-code>",
		"receive-buffer-size":      "func() -> result<u64, error-code>",
		"set-receive-buffer-size":  "func(value: u64) -> result<_, error-code>",
		"send-buffer-size":         "func() -> result<u64, error-code>",
		"set-send-buffer-size":     "func(value: u64) -> result<_, error-code>",
		"subscribe":                "func() -> pollable",
		"shutdown":                 "func(shutdown-type: shutdown-type) -> result<_, error-code>",
	})
	udp := methods(UDPSocketType, map[string]string{
		"start-bind":              "func(network: borrow<network>, local-address: ip-socket-address) -> result<_, error-code>",
		"finish-bind":             "func() -> result<_, error-code>",
		"stream":                  "func(remote-address: option<ip-socket-address>) -> result<tuple<incoming-datagram-stream, outgoing-datagram-stream>, error-code>",
		"local-address":           "func() -> result<ip-socket-address, error-code>",
		"remote-address":          "func() -> result<ip-socket-address, error-code>",
		"address-family":          "func() -> ip-address-family",
		"unicast-hop-limit":       "func() -> result<u8, error-code>",
		"set-unicast-hop-limit":   "func(value: u8) -> result<_, error-code>",
		"receive-buffer-size":     "func() -> result<u64, error-code>",
		"set-receive-buffer-size": "func(value: u64) -> result<_, error-code>",
		"send-buffer-size":        "func() -> result<u64, error-code>",
		"set-send-buffer-size":    "func(value: u64) -> result<_, error-code>",
		"subscribe":               "func() -> pollable",
	})
	for k, v := range methods(IncomingDatagramStreamType, map[string]string{
		"receive":   "func(max-results: u64) -> result<list<incoming-datagram>, error-code>",
		"subscribe": "func() -> pollable",
	}) {
		udp[k] = v
	}
	for k, v := range methods(OutgoingDatagramStreamType, map[string]string{
		"check-send": "func() -> result<u64, error-code>",
		"send":       "func(datagrams: list<outgoing-datagram>) -> result<u64, error-code>",
		"subscribe":  "func() -> pollable",
	}) {
		udp[k] = v
	}
	lookup := methods(ResolveAddressStreamType, map[string]string{
		"resolve-next-address": "func() -> result<option<ip-address>, error-code>",
		"subscribe":            "func() -> pollable",
	})
	lookup["resolve-addresses"] = fn("func(network: borrow<network>, name: string) -> result<resolve-address-stream, error-code>")
	insts := []*component.HostInstance{{
		Name: "wasi:sockets/network", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"network-error-code": fn("func(err: borrow<error>) -> option<error-code>"),
		},
		Resources: map[string]*component.HostResource{"network": {Type: NetworkType}},
	}, {
		Name: "wasi:sockets/instance-network", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"instance-network": ns.fn("func() -> network", func(context.Context, []any) ([]any, error) {
				return []any{&network{}}, nil
			}),
		},
	}, {
		Name: "wasi:sockets/tcp", Version: Version, Funcs: tcp,
		Resources: map[string]*component.HostResource{"tcp-socket": {Type: TCPSocketType}},
	}, {
		Name: "wasi:sockets/tcp-create-socket", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"create-tcp-socket": fn("func(address-family: ip-address-family) -> result<tcp-socket, error-code>"),
		},
	}, {
		Name: "wasi:sockets/udp", Version: Version, Funcs: udp,
		Resources: map[string]*component.HostResource{
			"udp-socket":               {Type: UDPSocketType},
			"incoming-datagram-stream": {Type: IncomingDatagramStreamType},
			"outgoing-datagram-stream": {Type: OutgoingDatagramStreamType},
		},
	}, {
		Name: "wasi:sockets/udp-create-socket", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"create-udp-socket": fn("func(address-family: ip-address-family) -> result<udp-socket, error-code>"),
		},
	}, {
		Name: "wasi:sockets/ip-name-lookup", Version: Version, Funcs: lookup,
		Resources: map[string]*component.HostResource{"resolve-address-stream": {Type: ResolveAddressStreamType}},
	}}
	for _, inst := range insts {
		if err := h.Define(inst); err != nil {
			return err
		}
	}
	return nil
}
