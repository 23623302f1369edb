package abi

import "strconv"

// ValueType is the WebAssembly type of a parameter or a result, as the
// binary format encodes it: the byte wazero's api.ValueType holds.
type ValueType byte

// The value types of the ABI's signatures.
const (
	// I32 is a 32-bit integer.
	I32 ValueType = 0x7f
	// I64 is a 64-bit integer.
	I64 ValueType = 0x7e
)

// String returns the type's name in the text format ("i32").
func (t ValueType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	}
	return "type(0x" + strconv.FormatUint(uint64(t), 16) + ")"
}

// Signature is the parameter and result types of a function.
type Signature struct {
	Params, Results []ValueType
}

// String spells s as "(i32, i32) -> i32", with "()" for no results.
func (s Signature) String() string {
	r := typeList(s.Results)
	if r == "" {
		r = "()"
	}
	return "(" + typeList(s.Params) + ") -> " + r
}

func typeList(ts []ValueType) string {
	out := ""
	for i, t := range ts {
		if i > 0 {
			out += ", "
		}
		out += t.String()
	}
	return out
}

// Match reports whether params and results, given as the binary format's
// type codes (how wazero's api.ValueType spells them), are s's types.
func (s Signature) Match(params, results []byte) bool {
	return sameCodes(s.Params, params) && sameCodes(s.Results, results)
}

func sameCodes(ts []ValueType, codes []byte) bool {
	if len(ts) != len(codes) {
		return false
	}
	for i, t := range ts {
		if byte(t) != codes[i] {
			return false
		}
	}
	return true
}

// Codes returns s's types as the binary format's type codes, which is what
// a runtime that defines the function (wazero's api.ValueType) takes.
func (s Signature) Codes() (params, results []byte) {
	return codes(s.Params), codes(s.Results)
}

func codes(ts []ValueType) []byte {
	if len(ts) == 0 {
		return nil
	}
	b := make([]byte, len(ts))
	for i, t := range ts {
		b[i] = byte(t)
	}
	return b
}

// types shortens the tables.
type types = []ValueType

// Function is a function of an import module, or an export of the guest,
// with its signature.
type Function struct {
	// Name is the function's name in its module.
	Name string
	Signature
}

// String spells f as "get_config(i32, i32) -> i32".
func (f Function) String() string { return f.Name + f.Signature.String() }

// Table lists the functions of one module.
type Table []Function

// Lookup returns the function of t named name.
func (t Table) Lookup(name string) (Function, bool) {
	for _, f := range t {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// Functions is the http_handler import module: every host function of
// [ModuleName] with its signature, in the ABI's order. A host defines
// exactly these; a guest may import any of them.
var Functions = Table{
	{FuncEnableFeatures, Signature{types{I32}, types{I32}}},
	{FuncGetConfig, Signature{types{I32, I32}, types{I32}}},
	{FuncLogEnabled, Signature{types{I32}, types{I32}}},
	{FuncLog, Signature{types{I32, I32, I32}, nil}},
	{FuncGetMethod, Signature{types{I32, I32}, types{I32}}},
	{FuncSetMethod, Signature{types{I32, I32}, nil}},
	{FuncGetURI, Signature{types{I32, I32}, types{I32}}},
	{FuncSetURI, Signature{types{I32, I32}, nil}},
	{FuncGetProtocolVersion, Signature{types{I32, I32}, types{I32}}},
	{FuncGetSourceAddr, Signature{types{I32, I32}, types{I32}}},
	{FuncGetHeaderNames, Signature{types{I32, I32, I32}, types{I64}}},
	{FuncGetHeaderValues, Signature{types{I32, I32, I32, I32, I32}, types{I64}}},
	{FuncSetHeaderValue, Signature{types{I32, I32, I32, I32, I32}, nil}},
	{FuncAddHeaderValue, Signature{types{I32, I32, I32, I32, I32}, nil}},
	{FuncRemoveHeader, Signature{types{I32, I32, I32}, nil}},
	{FuncReadBody, Signature{types{I32, I32, I32}, types{I64}}},
	{FuncWriteBody, Signature{types{I32, I32, I32}, nil}},
	{FuncGetStatusCode, Signature{nil, types{I32}}},
	{FuncSetStatusCode, Signature{types{I32}, nil}},
}

// Exports are the guest's exported functions with their signatures:
// handle_request, which every guest exports, and handle_response, which only
// a guest that returns next=1 needs. A guest also exports its memory
// ([ExportMemory]).
var Exports = Table{
	{ExportHandleRequest, Signature{nil, types{I64}}},
	{ExportHandleResponse, Signature{types{I32, I32}, nil}},
}
