package accesslog

import (
	"sync/atomic"
	"time"
)

// A line's time is most of what formatting it costs: time.AppendFormat
// walks its layout and computes the calendar date for every call, about
// half of a line's formatting. Every line of one second shares that second's
// date, clock and zone, so a stamp keeps them formatted once a second and
// a line appends only its fraction.

// second is one second's formatting: the date and clock ("2006-01-02T15:04:05")
// and the zone ("Z" or "+01:00") of a time in it, in loc.
type second struct {
	unix       int64
	loc        *time.Location
	clock      string
	zone       string
	zoneOffset int
}

// stamp appends times in RFC 3339, as time.RFC3339Nano or (millis) the
// text format's three fixed digits, byte for byte what time.AppendFormat
// writes. Its zero value is ready to use, and safe for concurrent use: the
// second it keeps is replaced whole.
type stamp struct{ cur atomic.Pointer[second] }

// appendTime appends t.
func (s *stamp) appendTime(b []byte, t time.Time, millis bool) []byte {
	sec := t.Unix()
	c := s.cur.Load()
	if c == nil || c.unix != sec || c.loc != t.Location() {
		_, off := t.Zone()
		c = &second{unix: sec, loc: t.Location(), clock: t.Format("2006-01-02T15:04:05"), zone: t.Format("Z07:00"), zoneOffset: off}
		s.cur.Store(c)
	}
	b = append(b, c.clock...)
	ns := t.Nanosecond()
	if millis {
		ms := ns / 1e6
		b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	} else if ns != 0 {
		// RFC3339Nano: nine digits less the trailing zeros.
		var d [10]byte
		d[0] = '.'
		for i := 9; i >= 1; i-- {
			d[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	return append(b, c.zone...)
}
