package cgi

import (
	"context"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// WASI error numbers the functions replaced here answer.
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoFault   = 21
)

// installWASI defines wazero's WASI with environ_get and environ_sizes_get
// replaced by ones that answer the environment of the request in the call's
// context: wazero fixes an instance's environment when it is instantiated,
// and a CGI isolate is instantiated before its request is known. Without a
// directory granted, fd_close is replaced too: closing stdin, stdout or
// stderr does nothing (the request's end closes them), and there is no
// other descriptor to close.
func (x *cgi) installWASI(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	i32 := api.ValueTypeI32
	if !x.dirs {
		b.NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(fdCloseStdio), []api.ValueType{i32}, []api.ValueType{i32}).
			WithParameterNames("fd").
			Export("fd_close")
	}
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(environSizesGet), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("result.environc", "result.environv_len").
		Export("environ_sizes_get")
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(environGet), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("environ", "environ_buf").
		Export("environ_get")
	_, err := b.Instantiate(ctx)
	return err
}

// callEnv is the environment of the request the call serves; none outside
// a request.
func callEnv(ctx context.Context) []string {
	if c, ok := ctx.Value(cgiKey{}).(*cgiInstance); ok {
		return c.env
	}
	return nil
}

func fdCloseStdio(_ context.Context, _ api.Module, stack []uint64) {
	if uint32(stack[0]) <= 2 {
		stack[0] = errnoSuccess
	} else {
		stack[0] = errnoBadf
	}
}

func environSizesGet(ctx context.Context, mod api.Module, stack []uint64) {
	env := callEnv(ctx)
	size := 0
	for _, kv := range env {
		size += len(kv) + 1
	}
	mem := mod.Memory()
	if mem == nil || !mem.WriteUint32Le(uint32(stack[0]), uint32(len(env))) || !mem.WriteUint32Le(uint32(stack[1]), uint32(size)) {
		stack[0] = errnoFault
		return
	}
	stack[0] = errnoSuccess
}

func environGet(ctx context.Context, mod api.Module, stack []uint64) {
	env := callEnv(ctx)
	mem := mod.Memory()
	ptrs, buf := uint32(stack[0]), uint32(stack[1])
	stack[0] = errnoFault
	if mem == nil {
		return
	}
	for i, kv := range env {
		if !mem.WriteUint32Le(ptrs+4*uint32(i), buf) || !mem.WriteString(buf, kv) || !mem.WriteByte(buf+uint32(len(kv)), 0) {
			return
		}
		buf += uint32(len(kv)) + 1
	}
	stack[0] = errnoSuccess
}
