// Package wasihttp is the host side of wasi:http 0.2 for components run by
// package component: the interfaces wasi:http/types and
// wasi:http/outgoing-handler ([Define]), and serving one request to a
// component that exports wasi:http/incoming-handler ([Serve]).
//
// Bodies stream both ways without being held whole. The body of the
// request served is an input stream reading the request body as the guest
// asks, bounded by [ServeOptions.MaxBody]; the body of the response is an
// output stream writing to the http.ResponseWriter, its status and headers
// written when the guest sets the response-outparam, flushed when the
// guest flushes. Trailers go both ways (those of the request once its body
// is read; those of the response as http.TrailerPrefix headers).
//
// Outgoing requests go through the outbound policy of package
// host/ext/outbound ([Config.Outbound]): deny by default, allowed origins,
// blocked networks checked after DNS, its caps and counts. A refusal
// reaches the guest as error-code HTTP-request-denied, never as a trap.
// Redirects come back to the guest unfollowed. The request body streams
// from the guest through a bounded buffer; trailers on it are refused
// (net/http sends only trailers declared before the request). Of
// request-options, the connect and first-byte timeouts bound the wait for
// the response head; between-bytes is kept but not applied.
//
// Fields follow the specification: names are tokens and values hold no
// control characters (else header-error invalid-syntax), hop-by-hop
// headers and host are forbidden as wasmtime forbids them (connection,
// keep-alive, proxy-authenticate, proxy-authorization, proxy-connection,
// transfer-encoding, upgrade, host, http2-settings: header-error
// forbidden), and the headers of incoming requests and responses,
// of an outgoing response once set or once its body is taken, and of an
// outgoing request once sent or once its body is taken, are immutable.
//
// Per-instance state (the outgoing requests of the request served) lives
// in a [State] the instance's Data gives through [StateHolder]; Serve ends
// what a request left open.
package wasihttp

import (
	"errors"
	"fmt"
	"maps"

	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/runtimepool/component"
)

// Version is the version of the interfaces Define defines; it serves
// imports of any 0.2.x version.
const Version = "0.2.12"

// IncomingHandler is the interface a component serving HTTP exports; its
// function is "handle".
const IncomingHandler = "wasi:http/incoming-handler@" + Version

// Config is what Define gives the components of a host. The zero value
// refuses every outgoing request.
type Config struct {
	// Outbound is the policy and transport of outgoing requests: its
	// Send (nil refuses every request), MaxCalls per request served,
	// MaxResponseBody and Timeout, as package outbound documents them.
	// Redirects are not followed: the guest receives them.
	Outbound *outbound.Host
}

// Define adds wasi:http/types and wasi:http/outgoing-handler to h. The
// wasi:io interfaces they use (streams, poll, error) must be defined by
// package wasip2.
func Define(h *component.Host, cfg Config) error {
	if cfg.Outbound == nil {
		cfg.Outbound = &outbound.Host{}
	}
	funcs := map[string]*component.HostFunc{"http-error-code": httpErrorCode()}
	for _, m := range []map[string]*component.HostFunc{fieldsFuncs(), incomingFuncs(), responseFuncs(), outgoingFuncs()} {
		maps.Copy(funcs, m)
	}
	o := &outgoing{h: cfg.Outbound}
	handler := o.handlerFuncs()
	for _, m := range []map[string]*component.HostFunc{funcs, handler} {
		for name, f := range m {
			if err := checkFunc(f); err != nil {
				return fmt.Errorf("defining wasi:http %s: %w", name, err)
			}
		}
	}
	types := &component.HostInstance{
		Name:      "wasi:http/types",
		Version:   Version,
		Funcs:     funcs,
		Resources: resources(),
	}
	if err := h.Define(types); err != nil {
		return err
	}
	return h.Define(&component.HostInstance{
		Name:    "wasi:http/outgoing-handler",
		Version: Version,
		Funcs:   handler,
	})
}

func checkFunc(f *component.HostFunc) error {
	for _, p := range f.Params {
		if err := p.Type.Check(); err != nil {
			return fmt.Errorf("parameter %s: %w", p.Name, err)
		}
	}
	for _, r := range f.Results {
		if err := r.Check(); err != nil {
			return fmt.Errorf("result: %w", err)
		}
	}
	return nil
}

// errBodyDropped ends an outgoing request whose body the guest dropped
// without finishing it.
var errBodyDropped = errors.New("the request body was dropped before it was finished")

// resources are the resource types of wasi:http/types, with what
// dropping each releases.
func resources() map[string]*component.HostResource {
	return map[string]*component.HostResource{
		"fields":            {Type: fieldsRes},
		"incoming-request":  {Type: incomingRequestRes},
		"outgoing-request":  {Type: outgoingRequestRes},
		"request-options":   {Type: requestOptionsRes},
		"response-outparam": {Type: responseOutparamRes},
		"outgoing-response": {Type: outgoingResponseRes},
		"incoming-response": {Type: incomingResponseRes, Drop: func(v any) {
			if r := v.(*incomingResponse); !r.consumed {
				r.body.close()
			}
		}},
		"incoming-body": {Type: incomingBodyRes, Drop: func(v any) {
			v.(*incomingBody).close()
		}},
		"future-trailers": {Type: futureTrailersRes, Drop: func(v any) {
			v.(*futureTrailers).body.close()
		}},
		"outgoing-body": {Type: outgoingBodyRes, Drop: func(v any) {
			b := v.(*outgoingBody)
			if b.finished {
				return
			}
			b.dropped = true
			if b.pipe != nil {
				b.pipe.finish(errBodyDropped)
			}
		}},
		"future-incoming-response": {Type: futureIncomingResponseRes, Drop: func(v any) {
			c := v.(*outgoingCall)
			c.mu.Lock()
			taken := c.taken
			c.mu.Unlock()
			if !taken {
				c.close()
			}
		}},
	}
}
