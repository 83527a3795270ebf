package wire

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// Heads as the SDKs send them, each taken by the fast reader.
var fastHeads = []string{
	// Cosmos (Go, .NET): a point read.
	"GET /dbs/db1/colls/c1/docs/item-1 HTTP/1.1\r\nHost: localhost:8081\r\nUser-Agent: azsdk-go-azcosmos/v1.0.0 (go1.22; linux)\r\n" +
		"X-Ms-Version: 2020-11-05\r\nX-Ms-Date: Sun, 29 Nov 2026 05:00:00 GMT\r\nAuthorization: type%3Dmaster%26ver%3D1.0%26sig%3Dabc%2B%2F%3D\r\n" +
		"X-Ms-Documentdb-Partitionkey: [\"pk-1\"]\r\nAccept: application/json\r\nX-Ms-Consistency-Level: Session\r\nAccept-Encoding: gzip\r\n\r\n",
	// Cosmos (Node): lower-case names, a query with a body.
	"POST /dbs/db1/colls/c1/docs HTTP/1.1\r\nhost: localhost:8081\r\naccept: application/json\r\ncontent-type: application/query+json\r\n" +
		"x-ms-documentdb-isquery: True\r\nx-ms-documentdb-query-enablecrosspartition: true\r\nx-ms-max-item-count: -1\r\n" +
		"x-ms-session-token: 0:-1#12\r\nx-ms-cosmos-sdk-supportedcapabilities: 1\r\ncontent-length: 33\r\nconnection: keep-alive\r\n\r\n" +
		`{"query":"SELECT * FROM c","x":1}`,
	// ARM with a bearer token, a PUT with a body, then a second request pipelined.
	"PUT /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/a?api-version=2024-05-15 HTTP/1.1\r\n" +
		"Host: management.azure.com\r\nAuthorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.sig\r\nContent-Type: application/json\r\n" +
		"Content-Length: 2\r\nX-Ms-Client-Request-Id: 5f3c\r\nTraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n{}" +
		"GET /next HTTP/1.1\r\nHost: h\r\n\r\n",
	// The test proxy's own headers.
	"POST /Record/Start HTTP/1.1\r\nHost: localhost:5001\r\nx-recording-file: recordings/test.json\r\nx-recording-id: \r\nContent-Length: 0\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: h\r\nx-recording-id: 1234\r\nx-recording-mode: playback\r\nx-recording-upstream-base-uri: https://a.documents.azure.com:443\r\n\r\n",
	// HTTP/1.0, with and without keep-alive; Connection lists.
	"GET / HTTP/1.0\r\n\r\n",
	"GET /a?b=c HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	"GET / HTTP/1.1\r\nConnection: TE, close\r\nHost: x\r\n\r\n",
	// CONNECT: an authority, and a path.
	"CONNECT a.documents.azure.com:443 HTTP/1.1\r\nHost: a.documents.azure.com:443\r\nProxy-Connection: keep-alive\r\n\r\n",
	"CONNECT /rpc HTTP/1.1\r\n\r\n",
	// An absolute target and a Host that differs; names twice; spaces and tabs around values.
	"GET http://example.com/p?q HTTP/1.1\r\nHost: other\r\nset-cookie: a\r\nSet-Cookie: b\r\nX-A:\t v \t\r\nX-Empty:\r\nX-Spaces:   \r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	"DELETE /dbs/db1 HTTP/1.1\r\nHost: h\r\nContent-Length: 000\r\nExpect: 100-continue\r\n\r\n",
	"POST /q HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nshort",
}

// Heads the fast reader leaves to net/http (which reads or refuses them).
var declinedHeads = []string{
	"GET / HTTP/1.1\r\nHost: h\r\nX-Folded: a\r\n b\r\n\r\n",                    // obs-fold
	"GET / HTTP/1.1\r\n Host: h\r\n\r\n",                                        // leading space on the first line
	"GET / HTTP/1.1\r\nHost: h\r\nX-A: caf\xc3\xa9\r\n\r\n",                     // obs-text
	"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01b\r\n\r\n",                          // control byte
	"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n",                            // bare CR
	"GET / HTTP/1.1\nHost: h\n\n",                                               // bare LF line ends
	"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n",                                   // a bare LF within
	"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", // chunked
	"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",                     // ignored on 1.0
	"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",        // duplicates
	"POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\nx",        // differing
	"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",                               // empty
	"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx",                            // sign
	"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\nx",                           // not a number
	"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",           // too long
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",                              // two hosts
	"GET / HTTP/1.1\r\nPragma: no-cache\r\n\r\n",                                // net/http adds Cache-Control
	"GET / HTTP/1.1\r\nTrailer: X\r\n\r\n",                                      // trailer
	"GET / HTTP/2.0\r\n\r\n",                                                    // other versions
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",                                          // h2 preface
	"GET / HTTP/1.2\r\n\r\n", "GET / http/1.1\r\n\r\n", "GET / HTTP/1.1 \r\n\r\n",
	"GET /a b HTTP/1.1\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET\t/ HTTP/1.1\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n",
	"GET  HTTP/1.1\r\n\r\n", "GET noslash HTTP/1.1\r\n\r\n", "GET /\x7f HTTP/1.1\r\n\r\n", "GET /\xff HTTP/1.1\r\n\r\n",
	"\r\nGET / HTTP/1.1\r\n\r\n", "\r\n\r\n",
	"GET / HTTP/1.1\r\nHost : h\r\n\r\n", // a space before the colon
	"GET / HTTP/1.1\r\nno colon\r\n\r\n", "GET / HTTP/1.1\r\n: v\r\n\r\n", "GET / HTTP/1.1\r\nX(: v\r\n\r\n",
	"GET / HTTP/1.1\r\n" + strings.Repeat("x", 100) + ": long name\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\n", // not whole
	"CONNECT [::1 HTTP/1.1\r\n\r\n", // a bad authority
}

// readBoth reads raw with the fast reader (after a first fill of the buffer, as ServeConn does)
// and with http.ReadRequest, and checks the fast reader either declines, consuming nothing, or
// gives what net/http gives: the request, the names in its head, the bytes consumed, and the body
// read or closed after some reads (reads of the body are held to the same too).
func readBoth(t *testing.T, raw []byte, reads int) (taken bool) {
	t.Helper()
	src := bytes.NewReader(raw)
	rd := NewReader(src)
	rd.br.Peek(1)
	before := src.Len() + rd.br.Buffered()
	req, names, ok := rd.readRequestFast(context.Background(), headEnd(rd.br))
	if !ok {
		if after := src.Len() + rd.br.Buffered(); after != before {
			t.Fatalf("declined %q after consuming %d bytes", raw, before-after)
		}
		return false
	}
	ref := bytes.NewReader(raw)
	rbr := bufio.NewReader(ref)
	want, err := http.ReadRequest(rbr)
	if err != nil {
		t.Fatalf("fast reader took %q, which net/http refuses: %v", raw, err)
	}
	consumed := len(raw) - ref.Len() - rbr.Buffered()
	if got := len(raw) - src.Len() - rd.br.Buffered(); got != consumed {
		t.Fatalf("%q: consumed %d bytes, net/http %d", raw, got, consumed)
	}
	if wantNames := HeadNames(raw[:consumed]); !reflect.DeepEqual(names, wantNames) {
		t.Errorf("%q: names %q, want %q", raw, names, wantNames)
	}
	if d := diffRequest(req, want); d != "" {
		t.Errorf("%q: %s", raw, d)
	}
	// The body: some reads, then Close, then reads after Close.
	p, q := make([]byte, 3), make([]byte, 3)
	for i := 0; i < reads; i++ {
		n, err := req.Body.Read(p)
		m, werr := want.Body.Read(q)
		if n != m || !bytes.Equal(p[:n], q[:m]) || !sameErr(err, werr) {
			t.Fatalf("%q: body read %d: %q %v, want %q %v", raw, i, p[:n], err, q[:m], werr)
		}
	}
	if err, werr := req.Body.Close(), want.Body.Close(); !sameErr(err, werr) {
		t.Errorf("%q: body Close: %v, want %v", raw, err, werr)
	}
	n, err := req.Body.Read(p)
	m, werr := want.Body.Read(q)
	if n != m || !sameErr(err, werr) {
		t.Errorf("%q: read after Close: %d %v, want %d %v", raw, n, err, m, werr)
	}
	if got, want := len(raw)-src.Len()-rd.br.Buffered(), len(raw)-ref.Len()-rbr.Buffered(); got != want {
		t.Errorf("%q: consumed %d bytes with the body, net/http %d", raw, got, want)
	}
	return true
}

func sameErr(a, b error) bool {
	return a == b || (a != nil && b != nil && a.Error() == b.Error())
}

func diffRequest(got, want *http.Request) string {
	type view struct {
		Method, URL, Proto          string
		Major, Minor                int
		Header                      http.Header
		Host, RequestURI            string
		Close                       bool
		ContentLength               int64
		TransferEncoding            []string
		Trailer                     http.Header
		NoBody                      bool
		Scheme, Opaque, User, Path  string
		RawPath, RawQuery, Fragment string
		ForceQuery, OmitHost        bool
	}
	v := func(r *http.Request) view {
		return view{r.Method, r.URL.String(), r.Proto, r.ProtoMajor, r.ProtoMinor, r.Header, r.Host, r.RequestURI, r.Close,
			r.ContentLength, r.TransferEncoding, r.Trailer, r.Body == http.NoBody,
			r.URL.Scheme, r.URL.Opaque, r.URL.User.String(), r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.URL.Fragment,
			r.URL.ForceQuery, r.URL.OmitHost}
	}
	if g, w := v(got), v(want); !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("request\n%+v\nwant\n%+v", g, w)
	}
	return ""
}

func TestReadRequestFastTakesSDKHeads(t *testing.T) {
	for _, h := range fastHeads {
		for reads := 0; reads < 20; reads += 7 {
			if !readBoth(t, []byte(h), reads) {
				t.Errorf("declined %q", h)
			}
		}
	}
}

func TestReadRequestFastDeclines(t *testing.T) {
	for _, h := range declinedHeads {
		if readBoth(t, []byte(h), 0) {
			t.Errorf("took %q", h)
		}
		// Declined, the request is read (or refused) as net/http reads it.
		got, _, err := NewReader(strings.NewReader(h)).ReadRequest()
		want, werr := http.ReadRequest(bufio.NewReader(strings.NewReader(h)))
		if (err == nil) != (werr == nil) {
			t.Errorf("%q: ReadRequest error %v, net/http %v", h, err, werr)
		} else if err == nil {
			if d := diffRequest(got, want); d != "" {
				t.Errorf("%q: %s", h, d)
			}
		}
	}
}

// Pipelined requests: each fast, each with its own names and body, the connection's bytes read in
// order; the slow path takes over where a head is split, and gives the same.
func TestReadRequestFastPipelined(t *testing.T) {
	raw := strings.Join(fastHeads, "")
	for _, chunk := range []int{1 << 20, 7} {
		var src io.Reader = strings.NewReader(raw)
		if chunk == 7 {
			src = &slowReader{s: raw}
		}
		rd := NewReader(src)
		ref := bufio.NewReader(strings.NewReader(raw))
		for i := 0; ; i++ {
			rd.Buffered().Peek(1)
			req, names, err := rd.ReadRequest()
			want, werr := http.ReadRequest(ref)
			if werr != nil {
				if err == nil || i < len(fastHeads) {
					t.Fatalf("request %d: err %v, net/http %v", i, err, werr)
				}
				break
			}
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if d := diffRequest(req, want); d != "" {
				t.Errorf("request %d: %s", i, d)
			}
			if len(names) == 0 && len(want.Header) > 0 {
				t.Errorf("request %d: no names", i)
			}
			b, err := io.ReadAll(req.Body)
			wb, werr := io.ReadAll(want.Body)
			if !bytes.Equal(b, wb) || !sameErr(err, werr) {
				t.Fatalf("request %d: body %q %v, want %q %v", i, b, err, wb, werr)
			}
		}
	}
}

// Closing a body unread reads it (so the next request can be read), unless the connection closes
// after this request; reading after Close fails as net/http's does.
func TestFixedBodyClose(t *testing.T) {
	for _, h := range []string{
		"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\n\r\n",
		"POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\n\r\n",
		"POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\n\r\n",
	} {
		for reads := 0; reads < 4; reads++ {
			if !readBoth(t, []byte(h), reads) {
				t.Errorf("declined %q", h)
			}
		}
	}
	rd := NewReader(strings.NewReader("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\n\r\n"))
	rd.Buffered().Peek(1)
	req, _, err := rd.ReadRequest()
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := req.Body.Read(make([]byte, 1)); !errors.Is(err, http.ErrBodyReadAfterClose) {
		t.Errorf("read after Close: %v", err)
	}
	if next, _, err := rd.ReadRequest(); err != nil || next.URL.Path != "/2" {
		t.Errorf("next request: %v %v", next, err)
	}
}

// FuzzReadRequestFast: for any bytes, the fast reader declines (consuming nothing) or gives what
// http.ReadRequest gives, with the names HeadNames finds in the bytes net/http consumed, and
// consumes those bytes; the body reads and closes as net/http's.
func FuzzReadRequestFast(f *testing.F) {
	for _, h := range append(fastHeads, declinedHeads...) {
		f.Add([]byte(h), uint8(1))
	}
	f.Fuzz(func(t *testing.T, raw []byte, reads uint8) {
		readBoth(t, raw, int(reads%8))
	})
}
