package wire

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// headNamesByAppend is headNames as first written, growing its list from nil: the reference the
// one that allocates its list once is held to.
func headNamesByAppend(head []byte, like []string) []string {
	var names []string
	first := true
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		switch {
		case first:
			first = false
			continue
		case len(line) == 0:
			return names
		case line[0] == ' ' || line[0] == '\t':
			continue
		}
		if name, _, ok := bytes.Cut(line, []byte(":")); ok {
			if i := len(names); i < len(like) && like[i] == string(name) {
				names = append(names, like[i])
			} else {
				names = append(names, string(name))
			}
		}
	}
	return names
}

func TestHeadNamesMatchesAppendingReader(t *testing.T) {
	many := "GET / HTTP/1.1\r\n" + strings.Repeat("x-a: 1\r\n", 300) + "\r\n"
	heads := []string{
		"", "\n", "\r\n", "GET / HTTP/1.1", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.0\n\n", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nx-ms-date: now\r\n folded\r\n\tmore\r\nContent-Length: 0\r\n\r\nbody: no\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\nSet-Cookie: a\r\nset-cookie: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nunterminated: yes", "GET / HTTP/1.1\nA:1\nB:2\n\n" + strings.Repeat("\n", 50), many,
	}
	likes := [][]string{nil, {"Host"}, {"Host", "x-ms-date", "Content-Length"}, {"Set-Cookie", "other"}}
	for _, head := range heads {
		for _, like := range likes {
			got, want := headNames([]byte(head), like), headNamesByAppend([]byte(head), like)
			if !reflect.DeepEqual(got, want) || (got == nil) != (want == nil) {
				t.Errorf("headNames(%q, %q) = %#v, want %#v", head, like, got, want)
			}
		}
	}
}
