package wire

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFieldsFollowNames(t *testing.T) {
	h := http.Header{"X-Ms-Continuation": {"c1"}, "Content-Type": {"application/json"}, "Set-Cookie": {"a=1", "b=2"}, "Etag": {`"e"`}}
	tests := []struct {
		name  string
		names []string
		want  []Field
	}{
		{"as sent", []string{"set-cookie", "x-ms-continuation", "Set-Cookie", "Content-Type", "etag"},
			[]Field{{"set-cookie", "a=1"}, {"x-ms-continuation", "c1"}, {"Set-Cookie", "b=2"}, {"Content-Type", "application/json"}, {"etag", `"e"`}}},
		{"unknown: sorted, canonical", nil,
			[]Field{{"Content-Type", "application/json"}, {"Etag", `"e"`}, {"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}, {"X-Ms-Continuation", "c1"}}},
		{"names of removed headers are skipped, added headers follow",
			[]string{"x-ms-continuation", "x-gone", "etag", "etag", "bad name"},
			[]Field{{"x-ms-continuation", "c1"}, {"etag", `"e"`}, {"Content-Type", "application/json"}, {"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Fields(h, tc.names); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Fields = %q\nwant %q", got, tc.want)
			}
		})
	}
	if got, want := Fit(h, []string{"etag", "x-gone"}), []string{"etag", "Content-Type", "Set-Cookie", "Set-Cookie", "X-Ms-Continuation"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Fit = %q, want %q", got, want)
	}
}

func TestCanonicalAndSpelledNames(t *testing.T) {
	h := http.Header{"x-ms-continuation": {"c"}, "Content-Type": {"t"}, "content-type": {"u"}}
	if got, want := Canonical(h), (http.Header{"X-Ms-Continuation": {"c"}, "Content-Type": {"t", "u"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("Canonical = %v, want %v", got, want)
	}
	if got, want := SpelledNames(h), []string{"Content-Type", "content-type", "x-ms-continuation"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SpelledNames = %q, want %q", got, want)
	}
	if got := SpelledNames(http.Header{"Etag": {"x"}}); got != nil {
		t.Errorf("SpelledNames of a canonical header = %q, want nil", got)
	}
}

// Requests on one connection, pipelined, with bodies of both framings and a folded line: each
// gets the names of its own head, and its body is intact.
func TestReaderNamesPerMessage(t *testing.T) {
	raw := "POST /a HTTP/1.1\r\nhost: h\r\nx-ms-documentdb-query: True\r\nContent-Length: 5\r\nX-Folded: a\r\n b\r\n\r\nhello" +
		"PUT /b HTTP/1.1\r\nHOST: h\r\ntransfer-encoding: chunked\r\nx-Z: 1\r\n\r\n3\r\nabc\r\n0\r\nTrailer-X: t\r\n\r\n" +
		"GET /c HTTP/1.1\r\nHost: h\r\naccept: */*\r\n\r\n"
	rd := NewReader(&slowReader{s: raw})
	want := []struct {
		names []string
		body  string
	}{
		{[]string{"host", "x-ms-documentdb-query", "Content-Length", "X-Folded"}, "hello"},
		{[]string{"HOST", "transfer-encoding", "x-Z"}, "abc"},
		{[]string{"Host", "accept"}, ""},
	}
	for i, w := range want {
		req, names, err := rd.ReadRequest()
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(req.Body)
		if !reflect.DeepEqual(names, w.names) || string(body) != w.body {
			t.Errorf("request %d: names %q body %q, want %q %q", i, names, body, w.names, w.body)
		}
	}
}

// slowReader hands out a few bytes at a time, so heads span reads.
type slowReader struct{ s string }

func (r *slowReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 7)], r.s)
	r.s = r.s[n:]
	return n, nil
}

// A raw client talks to a Server: the handler sees the names as sent, and its answer goes out
// with the reason phrase and the names it gave, in their order.
func TestServerKeepsTheWire(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := From(r.Context()).RequestNames()
		body, _ := io.ReadAll(r.Body)
		resp := &http.Response{StatusCode: 200, Status: "200 Fine Thanks", ContentLength: int64(len(body)),
			Header: http.Header{"X-Ms-Continuation": {strings.Join(got, ",")}, "Content-Type": {"text/plain"}, "Etag": {"1"}},
			Body:   io.NopCloser(strings.NewReader(string(body)))}
		Respond(w, resp, []string{"x-ms-continuation", "etag", "content-type"})
	})}
	go srv.Serve(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		fmt.Fprintf(c, "POST /x HTTP/1.1\r\nhost: a\r\nx-ms-session-token: 0:1\r\ncontent-length: 2\r\n\r\nok")
		head := readHead(t, br)
		want := "HTTP/1.1 200 Fine Thanks\r\nx-ms-continuation: host,x-ms-session-token,content-length\r\netag: 1\r\ncontent-type: text/plain\r\nContent-Length: 2\r\n\r\n"
		if head != want {
			t.Fatalf("answer %d head:\n%q\nwant\n%q", i, head, want)
		}
		if b := make([]byte, 2); func() bool { io.ReadFull(br, b); return string(b) != "ok" }() {
			t.Fatalf("answer %d body %q", i, b)
		}
	}
}

func readHead(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading head: %v (so far %q)", err, b.String())
		}
		b.WriteString(line)
		if line == "\r\n" {
			return b.String()
		}
	}
}

// Transport writes the names it is given in their order and spelling, and reads the upstream's
// names; a kept connection the server dropped is replaced without the caller noticing.
func TestTransportKeepsTheWire(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	heads := make(chan string, 8)
	go func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn, n int) {
				defer c.Close()
				br := bufio.NewReader(c)
				for i := 0; ; i++ {
					head, err := readHeadErr(br)
					if err != nil {
						return
					}
					heads <- head
					io.ReadFull(br, make([]byte, 4))
					fmt.Fprintf(c, "HTTP/1.1 201 Made It\r\nx-ms-request-charge: 1\r\nx-ms-continuation: abc\r\nCONTENT-length: 2\r\n\r\nhi")
					if n == 0 && i == 0 {
						return // drop the kept connection: the next request must not use it
					}
				}
			}(c, n)
		}
	}()
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	for i := 0; i < 3; i++ {
		x := &Exchange{Request: []string{"x-ms-version", "HOST", "authorization", "content-length"}}
		req := httptest.NewRequest("POST", "http://"+ln.Addr().String()+"/dbs?x=1", strings.NewReader("body")).WithContext(With(t.Context(), x))
		req.RequestURI = ""
		req.URL, _ = url.Parse("http://" + ln.Addr().String() + "/dbs?x=1")
		req.Header = http.Header{"X-Ms-Version": {"2018-12-31"}, "Authorization": {"k"}, "Content-Length": {"4"}}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Status != "201 Made It" || string(body) != "hi" {
			t.Errorf("request %d: %s %q", i, resp.Status, body)
		}
		if want := []string{"x-ms-request-charge", "x-ms-continuation", "CONTENT-length"}; !reflect.DeepEqual(x.Response, want) {
			t.Errorf("request %d: response names %q, want %q", i, x.Response, want)
		}
		if i == 0 {
			waitKeptClosed(t, tr) // the server drops it: the next request goes on a new connection
		}
		head := <-heads
		want := "POST /dbs?x=1 HTTP/1.1\r\nx-ms-version: 2018-12-31\r\nHOST: " + ln.Addr().String() + "\r\nauthorization: k\r\ncontent-length: 4\r\n\r\n"
		if head != want {
			t.Errorf("request %d head:\n%q\nwant\n%q", i, head, want)
		}
	}
}

func readHeadErr(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		b.WriteString(line)
		if line == "\r\n" {
			return b.String(), nil
		}
	}
}

// A head past the limit is refused with 431 and the connection closed, without buffering it all.
func TestServerRefusesHugeHeads(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go (&Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler called") })}).Serve(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n")
		line := "X-Filler: " + strings.Repeat("a", 8000) + "\r\n"
		for i := 0; i < 200; i++ {
			if _, err := io.WriteString(c, line); err != nil {
				return
			}
		}
	}()
	status, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(status, "HTTP/1.1 431 ") {
		t.Errorf("answer %q, want 431", status)
	}
}

// A kept connection the server drops after reading a request: a GET is sent again on a new
// connection, a POST is not (the server may have acted on it), as net/http decides.
func TestTransportResendsOnlyReplayableRequests(t *testing.T) {
	for _, tc := range []struct {
		method     string
		wantResent bool
	}{{"GET", true}, {"POST", false}} {
		t.Run(tc.method, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			seen := make(chan string, 8)
			go func() {
				for n := 0; ; n++ {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func(c net.Conn, n int) {
						defer c.Close()
						br := bufio.NewReader(c)
						for i := 0; ; i++ {
							head, err := readHeadErr(br)
							if err != nil {
								return
							}
							seen <- strings.SplitN(head, " ", 2)[0]
							if n == 0 && i == 1 {
								return // read the second request on the kept connection, then drop it unanswered
							}
							io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
						}
					}(c, n)
				}
			}()
			tr := &Transport{}
			defer tr.CloseIdleConnections()
			base := "http://" + ln.Addr().String() + "/"
			do := func(method string) error {
				req, _ := http.NewRequest(method, base, nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					return err
				}
				io.ReadAll(resp.Body)
				return resp.Body.Close()
			}
			if err := do("GET"); err != nil { // leaves the connection kept
				t.Fatal(err)
			}
			err = do(tc.method)
			if got := err == nil; got != tc.wantResent {
				t.Errorf("%s on a dropped kept connection: err %v, want resent %v", tc.method, err, tc.wantResent)
			}
			n := len(seen) // the first GET, then every copy of the second request
			if want := map[bool]int{true: 3, false: 2}[tc.wantResent]; n != want {
				t.Errorf("the server saw %d requests, want %d", n, want)
			}
		})
	}
}

// waitKeptClosed waits until the read-ahead on a kept connection has seen the server close it.
func waitKeptClosed(t *testing.T, tr *Transport) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		tr.mu.Lock()
		seen := false
		for _, cs := range tr.idle {
			for _, c := range cs {
				seen = seen || len(c.idle) > 0
			}
		}
		tr.mu.Unlock()
		if seen {
			return
		}
	}
	t.Fatal("the kept connection's close was never seen")
}
