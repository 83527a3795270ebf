package wire

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkServeConnReplayGET: a Cosmos point read sent again and again on one loopback
// connection to a Server whose handler answers with a recording's response, as a replay does.
// ns/op is a round trip; allocs/op are the server's (the client allocates nothing per request).
func BenchmarkServeConnReplayGET(b *testing.B) {
	resp := &http.Response{StatusCode: 200, Status: "200 OK", ContentLength: 2,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Ms-Request-Charge": {"1"}, "Etag": {`"0"`}, "Content-Length": {"2"}}}
	names := []string{"content-type", "x-ms-request-charge", "etag", "content-length"}
	head := NewHead(resp, names)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := From(r.Context())
		if len(x.RequestNames()) != 9 {
			panic("names")
		}
		r2 := *resp
		r2.Body = io.NopCloser(strings.NewReader("{}"))
		x.SetResponseHead(head)
		Respond(w, &r2, names)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go (&Server{Handler: h}).Serve(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte(fastHeads[0])
	// One round trip first: the connection is up and the answer's head made.
	c.Write(req)
	br := bufio.NewReader(c)
	first, err := http.ReadResponse(br, nil)
	if err != nil {
		b.Fatal(err)
	}
	io.ReadAll(first.Body)
	answer := make([]byte, len(head.text)+2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(br, answer); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if !bytes.HasSuffix(answer, []byte("\r\n\r\n{}")) {
		b.Fatalf("answer %q", answer)
	}
}

// BenchmarkReadRequest: a Cosmos GET head read from the buffer, by the fast reader and by the
// general way (http.ReadRequest through the tap, and the names from the bytes it consumed).
func BenchmarkReadRequest(b *testing.B) {
	raw := []byte(fastHeads[0])
	src := bytes.NewReader(raw)
	for _, tc := range []struct {
		name string
		read func(*Reader) (*http.Request, []string, error)
	}{
		{"fast", (*Reader).ReadRequest},
		{"nethttp", func(r *Reader) (*http.Request, []string, error) {
			var req *http.Request
			names, err := r.head(func(br *bufio.Reader) (err error) {
				req, err = http.ReadRequest(br)
				return err
			})
			return req, names, err
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			rd := NewReader(src)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				src.Reset(raw)
				rd.br.Reset(rd.tap)
				rd.br.Peek(1)
				if _, names, err := tc.read(rd); err != nil || len(names) != 9 {
					b.Fatal(err, names)
				}
			}
		})
	}
}
