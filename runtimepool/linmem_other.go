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

func withImageAllocator(ctx context.Context, _ *memImage, _ *memBudget) (context.Context, *memoryAllocator) {
	return ctx, nil
}

// memoryImagesSupported says whether pools map memory images: not outside
// Linux, where components' modules keep their data segments.
const memoryImagesSupported = false

type memImage struct{}

func newMemImage([]byte) (*memImage, error) { return nil, nil }

func (*memImage) close() {}

// memBudget is not kept outside Linux: each memory has only its own limit.
type memBudget struct{ limit int }
