package wire

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
)

// Reader reads HTTP/1.x messages from a connection with the names of their header lines. Parsing
// and framing are net/http's (http.ReadRequest, http.ReadResponse); Reader only watches the bytes
// those consume for the head of each message, and takes the names from there. A plain request
// head whole in the buffer (the usual case) is read by the fast reader instead (fastread.go),
// which gives what http.ReadRequest would.
type Reader struct {
	tap  *tap
	br   *bufio.Reader
	last []string // the names of the last message: a client sends the same ones again
}

// MaxHeadBytes bounds a message head (net/http's server default): a longer one is an error, not
// memory spent.
const MaxHeadBytes = 1 << 20

// ErrHeadTooLarge is the error for a head longer than MaxHeadBytes.
var ErrHeadTooLarge = errors.New("wire: message head larger than 1 MiB")

// tap copies what the buffered reader takes from the connection while a head is read.
type tap struct {
	r   io.Reader
	on  bool
	buf []byte
}

func (t *tap) Read(p []byte) (int, error) {
	if t.on && len(t.buf) > MaxHeadBytes {
		return 0, ErrHeadTooLarge
	}
	n, err := t.r.Read(p)
	if t.on {
		t.buf = append(t.buf, p[:n]...)
	}
	return n, err
}

// NewReader reads from r (a connection).
func NewReader(r io.Reader) *Reader {
	t := &tap{r: r}
	return &Reader{tap: t, br: bufio.NewReader(t)}
}

// Buffered is the reader's buffer: bytes read from the connection but not yet consumed.
func (r *Reader) Buffered() *bufio.Reader { return r.br }

// ReadRequest reads the next request as http.ReadRequest does, and the names of its header lines
// as sent. The body must be read (or closed) before the next call.
func (r *Reader) ReadRequest() (*http.Request, []string, error) {
	return r.readRequest(nil, headEnd(r.br))
}

// readRequest is ReadRequest making the request with ctx as its context (none when nil); end is
// headEnd's of the buffer as it is.
func (r *Reader) readRequest(ctx context.Context, end int) (*http.Request, []string, error) {
	if req, names, ok := r.readRequestFast(ctx, end); ok {
		r.last = names
		return req, names, nil
	}
	var req *http.Request
	names, err := r.head(func(br *bufio.Reader) (err error) {
		req, err = http.ReadRequest(br)
		return err
	})
	if err == nil && ctx != nil {
		req = req.WithContext(ctx)
	}
	return req, names, err
}

// ReadResponse reads the next response to req as http.ReadResponse does, and the names of its
// header lines as sent. The body must be read (or closed) before the next call.
func (r *Reader) ReadResponse(req *http.Request) (*http.Response, []string, error) {
	var resp *http.Response
	names, err := r.head(func(br *bufio.Reader) (err error) {
		resp, err = http.ReadResponse(br, req)
		return err
	})
	return resp, names, err
}

// head runs parse, which consumes exactly one message head from the buffered reader, and returns
// the names in the bytes it consumed: those already buffered and those it read meanwhile.
func (r *Reader) head(parse func(*bufio.Reader) error) ([]string, error) {
	pending, _ := r.br.Peek(r.br.Buffered())
	r.tap.buf = append(r.tap.buf[:0], pending...)
	r.tap.on = true
	err := parse(r.br)
	r.tap.on = false
	if errors.Is(err, ErrHeadTooLarge) || (err != nil && len(r.tap.buf) > MaxHeadBytes) {
		r.tap.buf = nil
		return nil, ErrHeadTooLarge
	}
	consumed := len(r.tap.buf) - r.br.Buffered()
	if err != nil || consumed < 0 {
		return nil, err
	}
	names := headNames(r.tap.buf[:consumed], r.last)
	r.last = names
	if cap(r.tap.buf) > 64<<10 {
		r.tap.buf = nil // a large head does not stay with the connection
	}
	return names, nil
}

// HeadNames returns the names of the header lines of a message head: the lines after the start
// line up to the empty line, continuation lines left out.
func HeadNames(head []byte) []string { return headNames(head, nil) }

// headNames is HeadNames taking the strings of like, where the names are the same, rather than
// making new ones.
func headNames(head []byte, like []string) []string {
	// One array for the names: a line per name at most, after the start line (a bounded guess,
	// as head may run on past its end).
	names := make([]string, 0, min(bytes.Count(head, []byte("\n")), 128))
	first := true
scan:
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
			break scan
		case line[0] == ' ' || line[0] == '\t': // an obsolete line folding continues the last value
			continue
		}
		if name, _, ok := bytes.Cut(line, []byte(":")); ok {
			if i := len(names); i < len(like) && like[i] == string(name) { // compared without a copy
				names = append(names, like[i])
			} else {
				names = append(names, string(name))
			}
		}
	}
	if len(names) == 0 {
		return nil // no names, as before the array
	}
	return names
}
