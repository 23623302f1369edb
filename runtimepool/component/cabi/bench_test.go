package cabi

import (
	"fmt"
	"testing"
)

// The costs of the common crossings: a host import taking a string and a
// u32, its string result, and a list of records both ways.

var benchRecord = record(Field{"name", StringType}, Field{"n", U32Type}, Field{"note", OptionOf(StringType)})

func benchRecords(n int) []any {
	vals := make([]any, n)
	for i := range vals {
		note := Option{}
		if i%2 == 0 {
			note = Option{true, "note"}
		}
		vals[i] = []any{fmt.Sprint("name ", i), uint32(i), note}
	}
	return vals
}

func BenchmarkLiftArgsString(b *testing.B) {
	h := newHeap(1 << 16)
	c := h.call(UTF8)
	core, err := LowerArgs(c, []*Type{StringType, U32Type}, []any{"content-type", uint32(7)})
	if err != nil {
		b.Fatal(err)
	}
	params := []*Type{StringType, U32Type}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LiftArgs(c, params, core); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLowerResultsString(b *testing.B) {
	h := newHeap(1 << 24)
	c := h.call(UTF8)
	results := []*Type{StringType}
	vals := []any{"text/html; charset=utf-8"}
	core := []uint64{8}
	b.ReportAllocs()
	for b.Loop() {
		h.last, h.calls = 64, h.calls[:0]
		if _, err := LowerResults(c, results, vals, core); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadRecords(b *testing.B) {
	h := newHeap(1 << 20)
	c := h.call(UTF8)
	t := ListOf(benchRecord)
	h.last = 16
	if err := Store(c, t, benchRecords(100), 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(c, t, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStoreRecords(b *testing.B) {
	h := newHeap(1 << 20)
	c := h.call(UTF8)
	t := ListOf(benchRecord)
	vals := benchRecords(100)
	b.ReportAllocs()
	for b.Loop() {
		h.last, h.calls = 16, h.calls[:0]
		if err := Store(c, t, vals, 0); err != nil {
			b.Fatal(err)
		}
	}
}
