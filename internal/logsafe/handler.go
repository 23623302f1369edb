package logsafe

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
)

// NewHandler returns a slog.Handler that hands every record to h with its
// message, attribute keys, group names and values escaped as String does
// wherever they hold something unsafe (see Unsafe). It is for handlers
// that write some of what they get raw, as the process log's does: its
// text format prints messages as they are and its JSON and logfmt
// formats let U+0085, U+2028, C1 and bidirectional controls through. A
// record with nothing unsafe reaches h unchanged.
//
// Values of kind Any count by their fmt.Sprint form; one that holds
// something unsafe reaches h as that form escaped, a string.
func NewHandler(h slog.Handler) slog.Handler { return &handler{h} }

// handler is NewHandler's handler.
type handler struct{ next slog.Handler }

// Enabled is the wrapped handler's.
func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle passes r on, escaped when it holds anything unsafe.
func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	clean := Index(r.Message) < 0
	if clean {
		r.Attrs(func(a slog.Attr) bool {
			_, changed := escapeAttr(a)
			clean = !changed
			return clean
		})
	}
	if clean {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		a, _ = escapeAttr(a)
		out.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs returns a handler whose wrapped handler has attrs, escaped.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	esc := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		esc[i], _ = escapeAttr(a)
	}
	return &handler{h.next.WithAttrs(esc)}
}

// WithGroup returns a handler whose wrapped handler has the group, its
// name escaped.
func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{h.next.WithGroup(String(name))}
}

// escapeAttr returns a with its key and value escaped, and whether that
// changed anything.
func escapeAttr(a slog.Attr) (slog.Attr, bool) {
	changed := false
	if Index(a.Key) >= 0 {
		a.Key, changed = String(a.Key), true
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); Index(s) >= 0 {
			a.Value, changed = slog.StringValue(String(s)), true
		}
	case slog.KindAny:
		if s := fmt.Sprint(v.Any()); Index(s) >= 0 {
			a.Value, changed = slog.StringValue(String(s)), true
		}
	case slog.KindGroup:
		group := v.Group()
		var esc []slog.Attr
		for i, ga := range group {
			if e, ch := escapeAttr(ga); ch {
				if esc == nil {
					esc = slices.Clone(group)
				}
				esc[i] = e
			}
		}
		if esc != nil {
			a.Value, changed = slog.GroupValue(esc...), true
		}
	}
	// Numbers, booleans, durations and times print nothing unsafe.
	return a, changed
}
