package wire

import (
	"bufio"
	"bytes"
	"net/http"
	"reflect"
)

// Head is the head of an answer (status line and header lines) written out once, for an answer
// sent again and again unchanged: a recording replayed. Set on the Exchange, it is written in
// place of the head WriteResponse would make, when the answer is still the one it was made from:
// the same header map (which its maker promises not to change), names, status and length, and
// the connection kept open.
type Head struct {
	header http.Header
	names  []string
	status string
	code   int
	length int64
	text   []byte
}

// NewHead writes out the head of resp with names, as WriteResponse writes it for a request other
// than HEAD on a connection kept open; nil when WriteResponse would first edit the header (a
// length to set, connection headers to drop), which a Head does not do.
func NewHead(resp *http.Response, names []string) *Head {
	noBody := bodyless(nil, resp.StatusCode)
	if resp.ContentLength < 0 || needsEdit(resp.Header, noBody, false, resp.ContentLength, false) {
		return nil
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writeHead(w, resp, resp.Header, names)
	w.Flush()
	return &Head{header: resp.Header, names: names, status: resp.Status, code: resp.StatusCode, length: resp.ContentLength, text: buf.Bytes()}
}

// fits reports whether h is the head WriteResponse would write for resp with names. The request
// does not matter: a HEAD answer's head is written as the GET one's when that needs no edit.
func (h *Head) fits(resp *http.Response, names []string, close bool) bool {
	return h != nil && !close && resp.StatusCode == h.code && resp.Status == h.status &&
		resp.ContentLength == h.length && sameMap(resp.Header, h.header) && sameSlice(names, h.names)
}

// sameMap reports whether a and b are one map (not equal ones).
func sameMap(a, b http.Header) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// sameSlice reports whether a and b are one slice of names (not equal ones).
func sameSlice(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// SetResponseHead sets the head written out for the response, when it still fits it (see Head).
func (x *Exchange) SetResponseHead(h *Head) {
	if x != nil {
		x.head = h
	}
}
