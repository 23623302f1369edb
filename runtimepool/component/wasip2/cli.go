package wasip2

import (
	"context"
	"io"
	"strings"
	"sync"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// The wasi:cli terminal resource types. No terminal is ever given: the
// get-terminal-* functions answer none.
var (
	TerminalInputType  = &cabi.Resource{Name: "terminal-input"}
	TerminalOutputType = &cabi.Resource{Name: "terminal-output"}
)

// eofStream is an input stream at its end from the start.
type eofStream struct{}

func (eofStream) Read(uint64) ([]byte, error) { return nil, io.EOF }
func (eofStream) Subscribe() Pollable         { return readyPollable{} }
func (eofStream) Close()                      {}

// sharedInput is a handle's view of a stream other handles share: the
// guest dropping it leaves the stream open.
type sharedInput struct{ InputStream }

func (sharedInput) Close() {}

func defineCLI(h *component.Host, cfg *Config) error {
	ns := names{
		"input-stream": InputStreamType, "output-stream": OutputStreamType,
		"terminal-input": TerminalInputType, "terminal-output": TerminalOutputType,
	}
	env := make([]any, 0, len(cfg.Env))
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, []any{k, v})
	}
	args := make([]any, len(cfg.Args))
	for i, a := range cfg.Args {
		args[i] = a
	}
	var stdinOnce sync.Once
	var stdin InputStream = eofStream{}
	hostStdin := func() InputStream {
		stdinOnce.Do(func() {
			if cfg.Stdin != nil {
				stdin = NewReaderStream(cfg.Stdin)
			}
		})
		return stdin
	}
	output := func(pick func(*Config) io.Writer, pickState func(*State) io.Writer) callFunc {
		return func(ctx context.Context, _ []any) ([]any, error) {
			var w io.Writer
			if st := stateOf(ctx); st != nil {
				w = pickState(st)
			}
			if w == nil {
				w = pick(cfg)
			}
			if w == nil {
				w = io.Discard
			}
			return []any{NewWriterStream(w, 0)}, nil
		}
	}
	none := func(context.Context, []any) ([]any, error) { return []any{cabi.Option{}}, nil }
	exit := func(code uint32) ([]any, error) { return nil, &ExitError{Code: code} }
	insts := []*component.HostInstance{{
		Name: "wasi:cli/environment", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"get-environment": ns.fn("func() -> list<tuple<string, string>>", func(context.Context, []any) ([]any, error) {
				return []any{env}, nil
			}),
			"get-arguments": ns.fn("func() -> list<string>", func(context.Context, []any) ([]any, error) {
				return []any{args}, nil
			}),
			"initial-cwd": ns.fn("func() -> option<string>", none),
		},
	}, {
		Name: "wasi:cli/exit", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"exit": ns.fn("func(status: result)", func(_ context.Context, a []any) ([]any, error) {
				if a[0].(cabi.Result).Err {
					return exit(1)
				}
				return exit(0)
			}),
			"exit-with-code": ns.fn("func(status-code: u8)", func(_ context.Context, a []any) ([]any, error) {
				return exit(uint32(a[0].(uint8)))
			}),
		},
	}, {
		Name: "wasi:cli/stdin", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"get-stdin": ns.fn("func() -> input-stream", func(ctx context.Context, _ []any) ([]any, error) {
				if st := stateOf(ctx); st != nil && st.Stdin != nil {
					if st.stdin == nil {
						st.stdin = NewReaderStream(st.Stdin)
					}
					return []any{sharedInput{st.stdin}}, nil
				}
				return []any{sharedInput{hostStdin()}}, nil
			}),
		},
	}, {
		Name: "wasi:cli/stdout", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"get-stdout": ns.fn("func() -> output-stream", output(
				func(c *Config) io.Writer { return c.Stdout }, func(s *State) io.Writer { return s.Stdout })),
		},
	}, {
		Name: "wasi:cli/stderr", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"get-stderr": ns.fn("func() -> output-stream", output(
				func(c *Config) io.Writer { return c.Stderr }, func(s *State) io.Writer { return s.Stderr })),
		},
	}, {
		Name: "wasi:cli/terminal-input", Version: Version,
		Resources: map[string]*component.HostResource{"terminal-input": {Type: TerminalInputType}},
	}, {
		Name: "wasi:cli/terminal-output", Version: Version,
		Resources: map[string]*component.HostResource{"terminal-output": {Type: TerminalOutputType}},
	}, {
		Name: "wasi:cli/terminal-stdin", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"get-terminal-stdin": ns.fn("func() -> option<terminal-input>", none),
		},
	}, {
		Name: "wasi:cli/terminal-stdout", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"get-terminal-stdout": ns.fn("func() -> option<terminal-output>", none),
		},
	}, {
		Name: "wasi:cli/terminal-stderr", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"get-terminal-stderr": ns.fn("func() -> option<terminal-output>", none),
		},
	}}
	for _, inst := range insts {
		if err := h.Define(inst); err != nil {
			return err
		}
	}
	return nil
}
