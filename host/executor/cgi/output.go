package cgi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
)

// The phases of a CGI response on stdout.
type outPhase uint8

const (
	phaseHead    outPhase = iota // reading header lines
	phaseBody                    // the status is sent; writes go to the client
	phaseDiscard                 // a local redirect or a malformed header: writes are dropped
)

// maxCGIHead bounds a CGI response's header section.
const maxCGIHead = 64 << 10

// flushDelay is how long the headers and body bytes may wait in the
// response buffer: a timer flushes them that long after they were written,
// unless the guest ended first (then net/http sends everything at once,
// with a Content-Length).
const flushDelay = 10 * time.Millisecond

// cgiOutput is a CGI guest's stdout: it parses the header section (RFC 3875
// §6), then streams the body to the client.
type cgiOutput struct {
	mu        sync.Mutex // the guest's writes against the flush timer
	w         http.ResponseWriter
	phase     outPhase
	head      []byte // the header section so far
	line      int    // where in head the current line starts
	status    int
	location  string
	bad       string // why the response is malformed
	redirect  string // a local Location: serve it instead
	wrote     bool   // the guest wrote anything
	committed bool   // the status line is out
	timer     *time.Timer
	armed     bool // timer is set
	ended     bool // the request is over: w is not ours any more
}

// begin readies o for a request answered on w.
func (o *cgiOutput) begin(w http.ResponseWriter) {
	o.mu.Lock()
	o.w, o.phase, o.head, o.line = w, phaseHead, o.head[:0], 0
	o.status, o.location, o.bad, o.redirect = 0, "", "", ""
	o.wrote, o.committed, o.ended = false, false, false
	o.mu.Unlock()
}

// end stops o from touching the response.
func (o *cgiOutput) end() {
	o.mu.Lock()
	o.ended = true
	if o.timer != nil {
		o.timer.Stop()
		o.armed = false
	}
	o.w = nil
	o.mu.Unlock()
}

// Write takes what the guest wrote to stdout. An error reaches the guest
// as EIO: the client is gone.
func (o *cgiOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended {
		return 0, errors.New("the request is over")
	}
	n := len(p)
	if n > 0 {
		o.wrote = true
	}
	for o.phase == phaseHead && len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		end := len(p)
		if i >= 0 {
			end = i + 1
		}
		if len(o.head)+end > maxCGIHead {
			o.fail(fmt.Sprintf("the header section is over %d bytes", maxCGIHead))
			return n, nil
		}
		if i < 0 {
			o.head = append(o.head, p...)
			return n, nil
		}
		o.head = append(o.head, p[:i+1]...)
		p = p[i+1:]
		line := strings.TrimRight(string(o.head[o.line:]), "\r\n")
		o.line = len(o.head)
		if line == "" {
			o.endHead()
		} else {
			o.field(line)
		}
	}
	if o.phase != phaseBody || len(p) == 0 {
		return n, nil
	}
	if _, err := o.w.Write(p); err != nil {
		return 0, err
	}
	o.arm()
	return n, nil
}

// arm sets the flush timer unless it is set.
func (o *cgiOutput) arm() {
	if o.armed {
		return
	}
	o.armed = true
	if o.timer == nil {
		o.timer = time.AfterFunc(flushDelay, o.flush)
	} else {
		o.timer.Reset(flushDelay)
	}
}

// flush sends the body buffered so far, unless the request is over.
func (o *cgiOutput) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended || !o.armed {
		return
	}
	o.armed = false
	http.NewResponseController(o.w).Flush()
}

func (o *cgiOutput) fail(why string) {
	if o.bad == "" {
		o.bad = why
	}
	o.phase = phaseDiscard
}

// hopByHop are header fields of one connection, which a CGI response must
// not set for the client's.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// field takes one header line of the response.
func (o *cgiOutput) field(line string) {
	name, value, ok := strings.Cut(line, ":")
	if !ok || !httpguts.ValidHeaderFieldName(name) {
		o.fail(fmt.Sprintf("header line %.80q is not \"Name: value\"", line))
		return
	}
	value = strings.TrimSpace(value)
	if !httpguts.ValidHeaderFieldValue(value) {
		o.fail(fmt.Sprintf("header %s has a value with control characters", name))
		return
	}
	name = http.CanonicalHeaderKey(name)
	switch {
	case name == "Status":
		code, err := strconv.Atoi(strings.SplitN(value, " ", 2)[0])
		if err != nil || code < 200 || code > 599 || o.status != 0 {
			o.fail(fmt.Sprintf("Status %.40q is not one status of 200 to 599", value))
			return
		}
		o.status = code
	case name == "Location":
		if o.location != "" {
			o.fail("two Location headers")
			return
		}
		o.location = value
	case hopByHop[name]:
	case name == "Content-Length":
		if _, err := strconv.ParseUint(value, 10, 63); err != nil {
			o.fail(fmt.Sprintf("Content-Length %.40q is not a number", value))
			return
		}
		o.w.Header().Set(name, value)
	default:
		o.w.Header().Add(name, value)
	}
}

// endHead acts on the header section (RFC 3875 §6.2): a local Location is
// a redirect served here; an absolute one is sent, with 302 unless Status
// says otherwise; anything else is a document, 200 unless Status says.
func (o *cgiOutput) endHead() {
	status, loc := o.status, o.location
	if loc != "" {
		if strings.HasPrefix(loc, "/") {
			o.redirect = loc
			o.phase = phaseDiscard
			return
		}
		if u, err := url.Parse(loc); err != nil || !u.IsAbs() {
			o.fail(fmt.Sprintf("Location %.80q is neither a local path nor an absolute URL", loc))
			return
		}
		o.w.Header().Set("Location", loc)
		if status == 0 {
			status = http.StatusFound
		}
	}
	if status == 0 {
		status = http.StatusOK
	}
	o.w.WriteHeader(status)
	o.committed = true
	o.phase = phaseBody
	o.arm() // the headers go out too while the guest works on the body
}
