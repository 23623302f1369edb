package binary

import "fmt"

// Names are the names a component-name custom section gives a component
// and its items, for messages; the section is optional and never needed
// to run the component.
type Names struct {
	// Component is the component's own name, "" when not given.
	Component string
	// Items name the items of each index space, by index.
	Items [NumSorts]map[uint32]string
}

// Name returns the name of the item i of sort s, "" when it has none.
func (n *Names) Name(s Sort, i uint32) string {
	if n == nil || s >= NumSorts {
		return ""
	}
	return n.Items[s][i]
}

// Names decodes the component's component-name custom section. It returns
// empty Names when there is none, and an error, which decoding the
// component itself ignores, for a section it cannot read.
func (c *Component) Names() (*Names, error) {
	n := &Names{}
	for _, sec := range c.Sections {
		s, ok := sec.(*CustomSection)
		if !ok || s.Name != "component-name" {
			continue
		}
		r := &reader{b: s.Data, end: len(s.Data), st: &state{items: MaxItems}}
		if err := r.names(n); err != nil {
			off := 0
			if pe, ok := err.(*posError); ok {
				off = pe.off
			}
			return n, &Error{Section: SectionCustom, Offset: s.Offset(),
				Reason: fmt.Sprintf("component-name, at byte %d of its data: %v", off, err)}
		}
		break
	}
	return n, nil
}

// names reads the subsections of a component-name section into n.
func (r *reader) names(n *Names) error {
	for r.left() > 0 {
		start := r.pos
		id, err := r.byte()
		if err != nil {
			return err
		}
		size, err := r.u32()
		if err != nil {
			return err
		}
		sub, err := r.sub(size)
		if err != nil {
			return err
		}
		switch id {
		case 0:
			if n.Component, err = sub.name(); err != nil {
				return err
			}
		case 1:
			s, err := sub.sort()
			if err != nil {
				return err
			}
			if n.Items[s] == nil {
				n.Items[s] = map[uint32]string{}
			}
			count, err := sub.count("names", 2)
			if err != nil {
				return err
			}
			for range count {
				i, err := sub.u32()
				if err != nil {
					return err
				}
				if n.Items[s][i], err = sub.name(); err != nil {
					return err
				}
			}
		default:
			// Subsections of later versions are skipped.
			continue
		}
		if sub.left() != 0 {
			return errorf(sub.pos, "%d bytes after the names subsection at %d", sub.left(), start)
		}
	}
	return nil
}
