package reqinfo

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

type carrier struct {
	http.ResponseWriter
	info Info
}

func (c *carrier) RequestInfo() *Info { return &c.info }

type wrapper struct{ http.ResponseWriter }

func (w wrapper) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func TestOf(t *testing.T) {
	t.Parallel()
	c := &carrier{ResponseWriter: httptest.NewRecorder(), info: Info{ID: "abc"}}
	cases := []struct {
		name string
		w    http.ResponseWriter
		want *Info
	}{
		{"the carrier itself", c, &c.info},
		{"wrapped twice", wrapper{wrapper{c}}, &c.info},
		{"no carrier", httptest.NewRecorder(), nil},
		{"wrapped without a carrier", wrapper{httptest.NewRecorder()}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Of(tc.w); got != tc.want {
				t.Fatalf("Of = %p, want %p", got, tc.want)
			}
		})
	}
	if id := IDOf(wrapper{c}); id != "abc" {
		t.Errorf("IDOf = %q, want the carrier's", id)
	}
	if a, b := IDOf(httptest.NewRecorder()), NewID(); len(a) != 16 || a == b {
		t.Errorf("new ids %q, %q: want distinct 16-digit ids", a, b)
	}
}

// TestNewIDValue: the header value holds the id, cannot be appended to in
// place, and every id is new.
func TestNewIDValue(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id, v := NewIDValue()
		if len(v) != 1 || v[0] != id || cap(v) != 1 {
			t.Fatalf("NewIDValue: %q, %q (cap %d)", id, v, cap(v))
		}
		if len(id) != 16 || seen[id] {
			t.Fatalf("id %q: short or seen before", id)
		}
		seen[id] = true
	}
}
