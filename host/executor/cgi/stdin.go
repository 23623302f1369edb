package cgi

import (
	"io"
)

// cgiStdin is a CGI guest's stdin: the body of the request it serves, read
// as the guest reads it.
type cgiStdin struct{ c *cgiInstance }

func (s cgiStdin) Read(p []byte) (int, error) {
	c := s.c
	if c.body == nil {
		return 0, io.EOF
	}
	n, err := c.body.Read(p)
	if err != nil && err != io.EOF && c.bodyErr == nil {
		c.bodyErr = err
	}
	return n, err
}
