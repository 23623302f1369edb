package component

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// Host is what a host gives the components it runs: interfaces
// (instances) by name, each with functions and resource types. A host is
// built before any component is loaded and read-only afterwards; one Host
// serves any number of components and their instances concurrently.
//
// The zero value provides nothing: a component that imports anything is
// refused at load, naming the first import nothing provides.
type Host struct {
	// TrapMissing links what a component imports and the host does not
	// provide to functions that trap when called, instead of refusing the
	// component at load (as wasmtime's define_unknown_imports_as_traps).
	// Info.Missing still lists them.
	TrapMissing bool

	instances map[string][]*HostInstance // by "ns:pkg/iface", any version
	funcs     map[string]*HostFunc       // top-level function imports
}

// HostInstance is one interface a host provides, such as
// wasi:io/streams@0.2.12. It serves imports of the same interface at any
// semver-compatible version: 0.2.12 serves 0.2.0 to 0.2.x, 1.4.0 serves
// 1.y.z.
type HostInstance struct {
	// Name is the interface's name without a version: "wasi:io/streams".
	Name string
	// Version is the interface's version, "0.2.12"; empty for an
	// unversioned interface, which serves only unversioned imports.
	Version string
	// Funcs are the interface's functions by their export name, as WIT
	// tooling names them: "get-stdout", "[constructor]fields",
	// "[method]output-stream.write", "[static]fields.from-list".
	Funcs map[string]*HostFunc
	// Resources are the interface's resource types by name.
	Resources map[string]*HostResource
}

// HostFunc is a function a host provides. Its Params and Results are the
// types it expects; an import whose declared type differs is refused at
// load, naming the function. Call receives the arguments lifted from the
// guest as Go values (package cabi documents the mapping) and returns the
// results to lower. An error from Call traps the guest's call: the
// component instance is then broken and must be discarded.
type HostFunc struct {
	Params  []Param
	Results []*cabi.Type
	Call    func(ctx context.Context, args []any) ([]any, error)
}

// Param is a function parameter: its name (for messages) and type.
type Param struct {
	Name string
	Type *cabi.Type
}

// HostResource is a resource type a host provides. Values of it live in
// Go; the guest holds handles to them.
type HostResource struct {
	// Type is the resource's identity; its Name is used in messages.
	Type *cabi.Resource
	// Drop, if set, is called when the guest drops its last owning
	// handle to v, or when the component instance closes while it still
	// holds one.
	Drop func(v any)
}

// Define adds inst to the host. Defining the same interface at the same
// version twice is an error.
func (h *Host) Define(inst *HostInstance) error {
	if _, _, err := splitVersion(inst.Name + versionSuffix(inst.Version)); err != nil {
		return fmt.Errorf("defining %s: %w", inst.Name, err)
	}
	if strings.Contains(inst.Name, "@") {
		return fmt.Errorf("defining %s: give the version in Version, not in Name", inst.Name)
	}
	for _, have := range h.instances[inst.Name] {
		if have.Version == inst.Version {
			return fmt.Errorf("defining %s: defined twice", inst.Name+versionSuffix(inst.Version))
		}
	}
	if h.instances == nil {
		h.instances = map[string][]*HostInstance{}
	}
	h.instances[inst.Name] = append(h.instances[inst.Name], inst)
	return nil
}

// DefineFunc adds a top-level function import by its name.
func (h *Host) DefineFunc(name string, f *HostFunc) error {
	if _, ok := h.funcs[name]; ok {
		return fmt.Errorf("defining function %s: defined twice", name)
	}
	if h.funcs == nil {
		h.funcs = map[string]*HostFunc{}
	}
	h.funcs[name] = f
	return nil
}

// Interfaces lists what the host provides, "name@version", sorted.
func (h *Host) Interfaces() []string {
	var out []string
	for _, insts := range h.instances {
		for _, inst := range insts {
			out = append(out, inst.Name+versionSuffix(inst.Version))
		}
	}
	for name := range h.funcs {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// lookup finds the instance serving an import named like
// "wasi:io/streams@0.2.3": the same interface at a compatible version, the
// newest if several are.
func (h *Host) lookup(importName string) *HostInstance {
	if h == nil {
		return nil
	}
	name, v, err := splitVersion(importName)
	if err != nil {
		return nil
	}
	var best *HostInstance
	var bestV semver
	for _, inst := range h.instances[name] {
		hv, _ := parseSemver(inst.Version)
		if !compatible(v, hv) {
			continue
		}
		if best == nil || bestV.less(hv) {
			best, bestV = inst, hv
		}
	}
	return best
}

func versionSuffix(v string) string {
	if v == "" {
		return ""
	}
	return "@" + v
}

// semver is a version's major.minor.patch; pre-release and build suffixes
// are kept whole in rest and must match exactly.
type semver struct {
	set                 bool
	major, minor, patch uint64
	rest                string
}

func (a semver) less(b semver) bool {
	if a.major != b.major {
		return a.major < b.major
	}
	if a.minor != b.minor {
		return a.minor < b.minor
	}
	return a.patch < b.patch
}

// compatible reports whether an implementation at version have serves an
// import of version want, by semver's rules as the component model's
// tooling applies them: the same major version (for 0.x, the same minor),
// pre-releases only exactly.
func compatible(want, have semver) bool {
	switch {
	case !want.set || !have.set:
		return want.set == have.set
	case want.rest != "" || have.rest != "":
		return want == have
	case want.major != have.major:
		return false
	case want.major == 0 && want.minor != have.minor:
		return false
	case want.major == 0 && want.minor == 0:
		return want.patch == have.patch
	}
	return true
}

// splitVersion splits "ns:pkg/iface@1.2.3" into its name and version.
func splitVersion(s string) (string, semver, error) {
	name, ver, ok := strings.Cut(s, "@")
	if !ok {
		return s, semver{}, nil
	}
	v, err := parseSemver(ver)
	if err != nil {
		return "", semver{}, fmt.Errorf("version %q of %s: %w", ver, name, err)
	}
	return name, v, nil
}

func parseSemver(s string) (semver, error) {
	if s == "" {
		return semver{}, nil
	}
	core, rest := s, ""
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		core, rest = s[:i], s[i:]
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return semver{}, fmt.Errorf("not a semantic version (major.minor.patch)")
	}
	var n [3]uint64
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 64)
		if err != nil || (len(p) > 1 && p[0] == '0') {
			return semver{}, fmt.Errorf("not a semantic version (major.minor.patch)")
		}
		n[i] = v
	}
	return semver{set: true, major: n[0], minor: n[1], patch: n[2], rest: rest}, nil
}
