//go:build !linux

package runtimepool

import (
	"context"

	"github.com/tetratelabs/wazero/api"
)

// memoryAllocator is wazero's own allocator outside Linux: linear memories
// on the Go heap, copied when they grow (see linmem_linux.go).
type memoryAllocator struct{}

func withMemoryAllocator(ctx context.Context) (context.Context, *memoryAllocator) {
	return ctx, nil
}

func (*memoryAllocator) bindMemory(api.Module) {}

func (*memoryAllocator) release() {}
