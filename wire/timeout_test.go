package wire

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveTimeouts serves h with short timeouts and returns a dialer for it.
func serveTimeouts(t *testing.T, idle, header time.Duration, h http.HandlerFunc) func() (net.Conn, *bufio.Reader) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go (&Server{Handler: h, IdleTimeout: idle, HeaderTimeout: header}).Serve(ln)
	return func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		return c, bufio.NewReader(c)
	}
}

// roundTrip sends a GET and reads its answer's body (2 bytes).
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, req string) {
	t.Helper()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("answer %d %q", resp.StatusCode, body)
	}
}

// closedWithin waits for the server to close c (after an error answer, for a head cut short),
// and reports how long that took.
func closedWithin(t *testing.T, br *bufio.Reader) time.Duration {
	t.Helper()
	start := time.Now()
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("read %v, want EOF (the server closing)", err)
	}
	return time.Since(start)
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	io.WriteString(w, "ok")
})

const getHead = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"

// The idle timeout closes a connection that sends nothing, before and between requests (the
// deadline kept from an earlier request included), and not much later than IdleTimeout.
func TestServerIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	dial := serveTimeouts(t, idle, 5*time.Second, okHandler)
	c, br := dial()
	if d := closedWithin(t, br); d > idle+time.Second {
		t.Errorf("no request: closed after %v, IdleTimeout %v", d, idle)
	}
	c, br = dial()
	for i := 0; i < 5; i++ { // requests in quick succession: the idle deadline is kept
		roundTrip(t, c, br, getHead)
	}
	if d := closedWithin(t, br); d < idle*7/8-50*time.Millisecond || d > idle+time.Second {
		t.Errorf("after requests: closed after %v, IdleTimeout %v", d, idle)
	}
}

// The header timeout closes a connection whose head stalls, though the idle timeout is long; on
// the first request and on one after another.
func TestServerHeaderTimeout(t *testing.T) {
	const header = 300 * time.Millisecond
	dial := serveTimeouts(t, time.Minute, header, okHandler)
	for _, before := range []int{0, 2} {
		c, br := dial()
		for i := 0; i < before; i++ {
			roundTrip(t, c, br, getHead)
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n") // no end
		if d := closedWithin(t, br); d > header+time.Second {
			t.Errorf("after %d requests: a stalled head closed after %v, HeaderTimeout %v", before, d, header)
		}
	}
}

// A handler slower than both timeouts: the answer goes out, and the connection serves the next
// request; with a body read slowly too (no deadline while the handler reads it).
func TestServerSlowHandlerOutlivesDeadlines(t *testing.T) {
	const timeout = 150 * time.Millisecond
	dial := serveTimeouts(t, timeout, timeout, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * timeout)
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	})
	c, br := dial()
	roundTrip(t, c, br, getHead)
	roundTrip(t, c, br, getHead)
	go func() {
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab")
		time.Sleep(3 * timeout)
		io.WriteString(c, "cd")
	}()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST answered %d", resp.StatusCode)
	}
	roundTrip(t, c, br, getHead)
}

// A hijacked connection has no deadline left: the handler reads it long after both timeouts.
func TestServerHijackClearsDeadlines(t *testing.T) {
	const timeout = 150 * time.Millisecond
	got := make(chan string, 1)
	dial := serveTimeouts(t, timeout, timeout, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "CONNECT" {
			okHandler(w, r)
			return
		}
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			got <- err.Error()
			return
		}
		defer conn.Close()
		time.Sleep(3 * timeout)
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		line, err := rw.ReadString('\n')
		if err != nil {
			got <- err.Error()
			return
		}
		got <- line
	})
	c, br := dial()
	roundTrip(t, c, br, getHead) // an idle deadline in place from an earlier request
	io.WriteString(c, "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n")
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, "200") {
		t.Fatalf("CONNECT answer %q %v", status, err)
	}
	time.Sleep(2 * timeout)
	io.WriteString(c, "tunnelled\n")
	if line := <-got; line != "tunnelled\n" {
		t.Errorf("hijacked connection read %q", line)
	}
}
