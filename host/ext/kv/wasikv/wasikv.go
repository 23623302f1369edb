// Package wasikv is the host side of wasi:keyvalue for components run by
// package component: the interfaces store, atomics and batch, over the
// stores of wasmserve's key-value extension (package host/ext/kv), so that
// a component reaches the same stores, under the same names, limits,
// deadlines and metrics, as a core module through wasmserve_kv.
//
// [Define] adds them at two versions, each served only to imports of
// exactly that version (a pre-release matches no other): 0.2.0-draft, the
// one wasmtime, Spin and wasmCloud implement (list-keys cursors are u64,
// increment takes and returns a u64), and 0.2.0-draft2 (string cursors, an
// s64 increment, and compare-and-swap: the cas resource and swap).
//
// Deny by default: open answers error::no-such-store for any name the
// server does not configure (--kv-store NAME=URL), and for every name when
// no store is configured. Every other failure (an invalid key, a value
// over the limit, the quota, a store that is down, a deadline) is
// error::other with the message a core guest reads from get_error; no
// failure of a store traps the guest.
package wasikv

import (
	"github.com/wasmserve/wasmserve/host/ext/kv"
	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// The versions Define defines.
const (
	// Draft is wasi:keyvalue@0.2.0-draft, as wasmtime, Spin and wasmCloud
	// implement it.
	Draft = "0.2.0-draft"
	// Draft2 is wasi:keyvalue@0.2.0-draft2, with compare-and-swap.
	Draft2 = "0.2.0-draft2"
)

// The interfaces, without their version.
const (
	// StoreInterface is wasi:keyvalue/store: open and the bucket resource.
	StoreInterface = "wasi:keyvalue/store"
	// AtomicsInterface is wasi:keyvalue/atomics: increment (and, in
	// draft2, the cas resource and swap).
	AtomicsInterface = "wasi:keyvalue/atomics"
	// BatchInterface is wasi:keyvalue/batch: get-many, set-many and
	// delete-many.
	BatchInterface = "wasi:keyvalue/batch"
)

// Define adds wasi:keyvalue store, atomics and batch at versions
// 0.2.0-draft and 0.2.0-draft2 to h, over the stores of e. A nil e
// configures no store: every open answers error::no-such-store.
func Define(h *component.Host, e *kv.Extension) error {
	for _, v := range []*version{newVersion(Draft, false), newVersion(Draft2, true)} {
		for _, inst := range v.instances(e) {
			for name, f := range inst.Funcs {
				if err := checkFunc(f); err != nil {
					return fmtErr(inst, name, err)
				}
			}
			if err := h.Define(inst); err != nil {
				return err
			}
		}
	}
	return nil
}

// Definer returns a function defining wasi:keyvalue over the stores of e
// on a host, for an executor to call on the host its components link
// against (wasihttp.KindConfig.KeyValue).
func Definer(e *kv.Extension) func(*component.Host) error {
	return func(h *component.Host) error { return Define(h, e) }
}

// version is the types of one version of the interfaces. The resource
// types are its own: a bucket of one version is not one of the other.
type version struct {
	name   string
	draft2 bool

	bucket      *cabi.Resource
	cas         *cabi.Resource // draft2
	errT        *cabi.Type
	keyResponse *cabi.Type
	cursor      *cabi.Type // option<u64> or option<string>
	counter     *cabi.Type // u64 or s64
	casError    *cabi.Type // draft2
}

func newVersion(name string, draft2 bool) *version {
	v := &version{name: name, draft2: draft2, bucket: &cabi.Resource{Name: "bucket"}}
	v.errT = &cabi.Type{Kind: cabi.KindVariant, Name: "error", Cases: []cabi.Case{
		{Name: "no-such-store"}, {Name: "access-denied"}, {Name: "other", Type: cabi.StringType},
	}}
	v.cursor, v.counter = cabi.OptionOf(cabi.U64Type), cabi.U64Type
	if draft2 {
		v.cursor, v.counter = cabi.OptionOf(cabi.StringType), cabi.S64Type
		v.cas = &cabi.Resource{Name: "cas"}
		v.casError = &cabi.Type{Kind: cabi.KindVariant, Name: "cas-error", Cases: []cabi.Case{
			{Name: "store-error", Type: v.errT}, {Name: "cas-failed", Type: own(v.cas)},
		}}
	}
	v.keyResponse = &cabi.Type{Kind: cabi.KindRecord, Name: "key-response", Fields: []cabi.Field{
		{Name: "keys", Type: cabi.ListOf(cabi.StringType)}, {Name: "cursor", Type: v.cursor},
	}}
	return v
}

// The cases of the error variant.
const (
	caseNoSuchStore uint32 = iota
	caseAccessDenied
	caseOther
)

// The cases of cas-error.
const (
	caseStoreError uint32 = iota
	caseCASFailed
)

func own(r *cabi.Resource) *cabi.Type    { return &cabi.Type{Kind: cabi.KindOwn, Resource: r} }
func borrow(r *cabi.Resource) *cabi.Type { return &cabi.Type{Kind: cabi.KindBorrow, Resource: r} }

// bytesType is list<u8>.
var bytesType = cabi.ListOf(cabi.U8Type)

// param is a parameter.
func param(name string, t *cabi.Type) component.Param { return component.Param{Name: name, Type: t} }

// result is the type result<ok, error>.
func (v *version) result(ok *cabi.Type) *cabi.Type { return cabi.ResultOf(ok, v.errT) }

// self is the parameter of a bucket method.
func (v *version) self() component.Param { return param("self", borrow(v.bucket)) }

// instances are the three interfaces of v, over the stores of e.
func (v *version) instances(e *kv.Extension) []*component.HostInstance {
	store := &component.HostInstance{
		Name: StoreInterface, Version: v.name,
		Funcs:     v.storeFuncs(e),
		Resources: map[string]*component.HostResource{"bucket": {Type: v.bucket}},
	}
	atomics := &component.HostInstance{Name: AtomicsInterface, Version: v.name, Funcs: v.atomicsFuncs()}
	if v.draft2 {
		atomics.Resources = map[string]*component.HostResource{"cas": {Type: v.cas}}
	}
	batch := &component.HostInstance{Name: BatchInterface, Version: v.name, Funcs: v.batchFuncs()}
	return []*component.HostInstance{store, atomics, batch}
}
