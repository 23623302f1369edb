package component

import (
	"strconv"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// The linker turns a component's instantiation graph into a plan once, at
// load: the core instances to create in order (each core module's imports
// renamed to point straight at the core instance or host function that
// provides them), the host functions the guest calls (lowered functions
// and canon built-ins), and the lifted functions the host can call. An
// isolate then runs the plan: N anonymous wazero instantiations wired by
// an import resolver, and nothing else.

// coreRef names a core definition an isolate can reach: an export of one of
// the plan's core instances (inst ≥ 0), or a function of the component's
// host module (inst == hostInst, name "f<index>").
type coreRef struct {
	inst int
	name string
}

// hostInst is the coreRef.inst of the plan's host module.
const hostInst = -1

// coreStep creates one core instance.
type coreStep struct {
	// module is the core module, its imports renamed to stepName(k) and
	// the host module's name.
	module wazero.CompiledModule
	// what describes the step in messages: "core module 0 (main)".
	what string
	// image is the initial contents of the memory the module defines,
	// whose data segments module no longer writes; nil without one.
	image []byte
}

// stepName is the module name the import resolver answers with core
// instance k.
func stepName(k int) string { return "ci" + strconv.Itoa(k) }

// canonOpts are a lift's or lower's canonical options, resolved.
type canonOpts struct {
	encoding   cabi.StringEncoding
	memory     int // memory slot, or -1
	realloc    int // function slot, or -1
	postReturn int // function slot, or -1
}

// liftedFunc is a core function lifted to a component function (canon
// lift), callable by the host or, lowered again, by another component
// instance of the same component.
type liftedFunc struct {
	name    string // for messages
	core    int    // function slot of the core callee
	params  []Param
	ptypes  []*cabi.Type
	results []*cabi.Type
	sig     cabi.FlatSig
	opts    canonOpts
	table   int // handle table of the component instance it lives in
}

// hostFuncKind says what a host-module function does.
type hostFuncKind uint8

const (
	hostLower        hostFuncKind = iota // canon lower of a host or lifted function
	hostResourceNew                      // canon resource.new
	hostResourceDrop                     // canon resource.drop
	hostResourceRep                      // canon resource.rep
)

// hostFuncSpec is one function of a plan's host module.
type hostFuncSpec struct {
	kind hostFuncKind
	name string // for messages: "wasi:io/streams@0.2.12#[method]output-stream.write"
	// For hostLower: the callee (exactly one set), its types and options.
	host    *HostFunc
	lifted  *liftedFunc
	ptypes  []*cabi.Type
	results []*cabi.Type
	sig     cabi.FlatSig
	opts    canonOpts
	// For the resource built-ins: the resource type.
	res   *cabi.Resource
	table int
	// coreParams and coreResults are the core signature.
	coreParams, coreResults []api.ValueType
}

// guestResource is a resource type the component defines: its destructor,
// when it has one, is a function slot called with the rep.
type guestResource struct {
	dtor int // function slot, or -1
}
