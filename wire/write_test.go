package wire

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// writeResponseByClone is WriteResponse as first written, copying the header for every answer:
// the reference the one that copies only when it edits is held to.
func writeResponseByClone(w *bufio.Writer, req *http.Request, resp *http.Response, names []string, close bool) error {
	if resp.Body != nil {
		defer resp.Body.Close()
	}
	h := resp.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	for _, k := range []string{"Transfer-Encoding", "Connection"} {
		h.Del(k)
	}
	noBody := bodyless(req, resp.StatusCode)
	chunked := false
	switch {
	case noBody:
	case resp.ContentLength >= 0:
		if h.Get("Content-Length") == "" || h.Get("Content-Length") != strconv.FormatInt(resp.ContentLength, 10) {
			h.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
		}
	default:
		h.Del("Content-Length")
		h.Set("Transfer-Encoding", "chunked")
		chunked = true
	}
	if close {
		h.Set("Connection", "close")
	}
	w.WriteString("HTTP/1.1 ")
	w.WriteString(StatusLine(resp))
	w.WriteString("\r\n")
	writeFields(w, Fields(h, names))
	if !noBody && resp.Body != nil {
		if err := writeBody(w, resp.Body, chunked); err != nil {
			return err
		}
	}
	return w.Flush()
}

// TestWriteResponseMatchesCopyingWriter holds WriteResponse to the copying writer on heads that
// need no edit, and on every edit it makes: lengths right, wrong and missing, connection headers
// (with and without values, in any case), chunked bodies, HEAD and bodyless codes, close.
func TestWriteResponseMatchesCopyingWriter(t *testing.T) {
	headers := map[string]func() http.Header{
		"nil":   func() http.Header { return nil },
		"empty": func() http.Header { return http.Header{} },
		"right length": func() http.Header {
			return http.Header{"Content-Length": {"5"}, "Content-Type": {"application/json"}, "X-Ms-Request-Charge": {"1"}}
		},
		"wrong length":   func() http.Header { return http.Header{"Content-Length": {"7"}, "Etag": {`"x"`}} },
		"empty length":   func() http.Header { return http.Header{"Content-Length": {""}} },
		"two lengths":    func() http.Header { return http.Header{"Content-Length": {"5", "5"}} },
		"no length":      func() http.Header { return http.Header{"Etag": {`"x"`}} },
		"nil length":     func() http.Header { return http.Header{"Content-Length": nil} },
		"connection":     func() http.Header { return http.Header{"Content-Length": {"5"}, "Connection": {"keep-alive"}} },
		"nil connection": func() http.Header { return http.Header{"Content-Length": {"5"}, "Connection": nil} },
		"transfer": func() http.Header {
			return http.Header{"Content-Length": {"5"}, "Transfer-Encoding": {"chunked"}}
		},
		"nil transfer":  func() http.Header { return http.Header{"Content-Length": {"5"}, "Transfer-Encoding": nil} },
		"lower case":    func() http.Header { return http.Header{"content-length": {"5"}, "connection": {"close"}} },
		"mixed lengths": func() http.Header { return http.Header{"content-length": {"9"}, "Content-Length": {"5"}} },
		"multi": func() http.Header {
			return http.Header{"Content-Length": {"5"}, "Set-Cookie": {"a=1", "b=2"}, "X-Empty": nil, "X-Line": {"a\r\nb "}}
		},
	}
	names := map[string][]string{
		"none":   nil,
		"spelt":  {"x-ms-request-charge", "content-type", "content-length", "set-cookie", "Set-Cookie"},
		"extras": {"connection", "Transfer-Encoding", "CONTENT-LENGTH", "etag", "bad name"},
	}
	headsUsed := 0
	for hn, header := range headers {
		for nn, ns := range names {
			for _, method := range []string{"GET", "HEAD"} {
				for _, code := range []int{200, 204, 304, 101, 490} {
					for _, length := range []int64{5, 0, -1} {
						for _, close := range []bool{false, true} {
							req := &http.Request{Method: method}
							mk := func() *http.Response {
								var body io.ReadCloser
								if length != 0 {
									body = io.NopCloser(strings.NewReader("hello"))
								}
								return &http.Response{StatusCode: code, Status: strconv.Itoa(code) + " Said So", Header: header(), ContentLength: length, Body: body}
							}
							var got, want bytes.Buffer
							resp := mk()
							before := resp.Header.Clone()
							gotErr := WriteResponse(bufio.NewWriter(&got), req, resp, ns, close)
							wantErr := writeResponseByClone(bufio.NewWriter(&want), req, mk(), ns, close)
							if got.String() != want.String() || (gotErr == nil) != (wantErr == nil) {
								t.Errorf("%s/%s %s %d length %d close %v:\n got %q (%v)\nwant %q (%v)", hn, nn, method, code, length, close, got.String(), gotErr, want.String(), wantErr)
							}
							if !equalHeaders(before, resp.Header) {
								t.Errorf("%s/%s: WriteResponse changed the response's header: %v, was %v", hn, nn, resp.Header, before)
							}
							// A head written out once, from this answer or from an equal one that is not
							// it, gives the same bytes.
							for _, from := range []string{"itself", "an equal answer"} {
								shared := mk()
								src := shared
								if from != "itself" {
									src = mk()
								}
								head := NewHead(src, ns)
								var viaHead bytes.Buffer
								headErr := writeResponse(bufio.NewWriter(&viaHead), req, shared, ns, close, head)
								if viaHead.String() != want.String() || (headErr == nil) != (wantErr == nil) {
									t.Errorf("%s/%s %s %d length %d close %v, head from %s:\n got %q (%v)\nwant %q (%v)", hn, nn, method, code, length, close, from, viaHead.String(), headErr, want.String(), wantErr)
								}
								if head.fits(shared, ns, close) {
									headsUsed++
								}
							}
						}
					}
				}
			}
		}
	}
	if headsUsed == 0 {
		t.Error("no answer was written with a head written out once")
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || (v == nil) != (w == nil) || strings.Join(v, "\x00") != strings.Join(w, "\x00") || len(v) != len(w) {
			return false
		}
	}
	return true
}

// TestStatusLineMatchesReplacingAlways holds StatusLine, which replaces line breaks only when
// the reason has one, to the line made by replacing always.
func TestStatusLineMatchesReplacingAlways(t *testing.T) {
	for _, code := range []int{200, 201, 404, 490, 999, 0, -1} {
		for _, status := range []string{"", "200", "200 OK", "404 Not Found", "490 No Recording", "200 OK\r\nX-Evil: 1", "200  spaced  ", "2000 OK", "200x", "999 \n", "404 \u00a0Gone\u00a0", "200 OK ", "200 \tOK", "404 Gone\u00a0", "200 OK\r", "201 Created", "0 x", "-1 x"} {
			resp := &http.Response{StatusCode: code, Status: status}
			code := strconv.Itoa(code)
			reason, ok := strings.CutPrefix(status, code)
			if !ok || (reason != "" && reason[0] != ' ') {
				reason = " " + http.StatusText(resp.StatusCode)
			}
			if got, want := StatusLine(resp), code+" "+strings.TrimSpace(valueReplacer.Replace(reason)); got != want {
				t.Errorf("StatusLine(%d, %q) = %q, want %q", resp.StatusCode, status, got, want)
			}
		}
	}
}

// TestHeadOnlyForItsAnswer: a head written out once is used for the answer it was made from and
// for no other, though status, length and names agree.
func TestHeadOnlyForItsAnswer(t *testing.T) {
	names := []string{"x-a", "content-length"}
	mk := func(h http.Header) *http.Response {
		return &http.Response{StatusCode: 200, Status: "200 OK", Header: h, ContentLength: 2, Body: io.NopCloser(strings.NewReader("ok"))}
	}
	made := mk(http.Header{"X-A": {"1"}, "Content-Length": {"2"}})
	head := NewHead(made, names)
	cases := []struct {
		name  string
		resp  *http.Response
		names []string
		want  string
	}{
		{"its answer", mk(made.Header), names, "x-a: 1"},
		{"another header", mk(http.Header{"X-A": {"2"}, "Content-Length": {"2"}}), names, "x-a: 2"},
		{"other names", mk(made.Header), []string{"X-A", "Content-Length"}, "X-A: 1"},
		{"other names, spelt otherwise", mk(made.Header), []string{"X-a", "content-length"}, "X-a: 1"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		if err := writeResponse(bufio.NewWriter(&out), nil, c.resp, c.names, false, head); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "\r\n"+c.want+"\r\n") {
			t.Errorf("%s: wrote %q, want a line %q", c.name, out.String(), c.want)
		}
	}
}

// TestAsksToCloseTrustsOnlyItsHead: the lookup is spared only for the header a Head was made of
// (which has no Connection line); any other header is read.
func TestAsksToCloseTrustsOnlyItsHead(t *testing.T) {
	made := http.Header{"Content-Length": {"0"}}
	head := NewHead(&http.Response{StatusCode: 200, Status: "200 OK", Header: made}, nil)
	if head == nil {
		t.Fatal("no head made")
	}
	closing := http.Header{"Connection": {"close"}}
	cases := []struct {
		name string
		head *Head
		h    http.Header
		want bool
	}{
		{"its header", head, made, false},
		{"another header asking to close", head, closing, true},
		{"no head", nil, closing, true},
		{"no head, no Connection", nil, made, false},
	}
	for _, c := range cases {
		w := &responseWriter{exchange: &Exchange{head: c.head}}
		if got := w.asksToClose(c.h); got != c.want {
			t.Errorf("%s: asksToClose = %v, want %v", c.name, got, c.want)
		}
	}
	if NewHead(&http.Response{StatusCode: 200, Status: "200 OK", Header: closing}, nil) != nil {
		t.Error("a head was made of a header with a Connection line")
	}
}
