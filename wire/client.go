package wire

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Transport sends requests over HTTP/1.1 with the names of the request's Exchange (see With) in
// their spelling and order, and sets the Exchange's Response to the names of the response's
// header lines as the upstream sent them. It adds nothing to a request (no User-Agent, no
// Accept-Encoding, no transparent decompression) and speaks HTTP/1.1 only: under HTTP/2 names are
// lower case by protocol and Go's HTTP/2 client keeps no order, so the spelling a server gives
// its HTTP/1.1 clients (every SDK's default) is what a recording should hold. Connections are
// kept for reuse per host. Request bodies are read whole before sending.
type Transport struct {
	// DialContext opens connections (default a net.Dialer with a 30 s timeout).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSClientConfig is used for https; ServerName defaults to the request's host.
	TLSClientConfig     *tls.Config
	TLSHandshakeTimeout time.Duration // default 15 s
	MaxIdleConnsPerHost int           // default 16
	IdleConnTimeout     time.Duration // default 90 s

	mu   sync.Mutex
	idle map[string][]*clientConn
}

type clientConn struct {
	net.Conn
	rd     *Reader
	bw     *bufio.Writer
	key    string
	reused bool
	since  time.Time
	// idle reports what the connection read while it was kept: nothing until the next answer
	// starts (nil then), or the error that ended it — the server closed it meanwhile.
	idle chan error
}

// watch reads ahead on a kept connection, as net/http does, so one the server closes while it is
// idle is known before a request is written to it.
func (c *clientConn) watch() {
	c.idle = make(chan error, 1)
	go func() {
		_, err := c.rd.br.Peek(1)
		c.idle <- err
	}()
}

// closedWhileIdle reports whether the server closed the kept connection.
func (c *clientConn) closedWhileIdle() bool {
	select {
	case <-c.idle:
		c.idle = nil
		return true // an answer nobody asked for, or the end: either way not reusable
	default:
		return false
	}
}

// awaitAnswer waits for the read-ahead to see the answer's first byte before the answer is read.
func (c *clientConn) awaitAnswer() error {
	if c.idle == nil {
		return nil
	}
	err := <-c.idle
	c.idle = nil
	return err
}

// CloseIdleConnections closes the connections kept for reuse.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, cs := range idle {
		for _, c := range cs {
			c.Close()
		}
	}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	if req.URL == nil || req.URL.Host == "" || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		return nil, fmt.Errorf("wire: unsupported request URL %q", req.URL)
	}
	x := From(req.Context())
	for attempt := 0; ; attempt++ {
		c, err := t.conn(req.Context(), req.URL)
		if err != nil {
			return nil, err
		}
		resp, names, err := t.exchange(c, req, x.RequestNames(), body)
		if err != nil {
			c.Close()
			// A kept connection the server closed meanwhile fails before any answer: try once more
			// on a new one, as net/http does — when the request never left, or when sending it
			// again cannot do anything twice (a POST the server may have acted on is not resent).
			var unsent *writeError
			if c.reused && attempt == 0 && req.Context().Err() == nil && retryable(err) &&
				(errors.As(err, &unsent) || replayable(req)) {
				continue
			}
			return nil, err
		}
		x.SetResponse(names)
		return resp, nil
	}
}

// writeError is a failure to send the request: the server saw none of it.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// replayable: a request that may be sent again after the server may have seen it (net/http's rule).
func replayable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return req.Header.Get("Idempotency-Key") != "" || req.Header.Get("X-Idempotency-Key") != ""
}

func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

// exchange sends req on c and reads the answer's head; the body is read from c as the caller reads it.
func (t *Transport) exchange(c *clientConn, req *http.Request, names []string, body []byte) (*http.Response, []string, error) {
	stop := context.AfterFunc(req.Context(), func() { c.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, []string, error) {
		stop()
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, nil, ctxErr
		}
		return nil, nil, err
	}
	if err := WriteRequest(c.bw, req, names, body); err != nil {
		return fail(&writeError{err})
	}
	if err := c.awaitAnswer(); err != nil {
		return fail(err)
	}
	for {
		resp, respNames, err := c.rd.ReadResponse(req)
		if err != nil {
			return fail(err)
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue // 100 Continue and other informational answers precede the answer
		}
		resp.Body = &clientBody{rc: resp.Body, c: c, t: t, stop: stop, reuse: !resp.Close && !req.Close}
		return resp, respNames, nil
	}
}

// clientBody gives the connection back when the body has been read to its end.
type clientBody struct {
	rc    io.ReadCloser
	c     *clientConn
	t     *Transport
	stop  func() bool
	reuse bool
	done  bool
	eof   bool
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof = true
		b.release()
	} else if err != nil {
		b.reuse = false
	}
	return n, err
}

func (b *clientBody) Close() error {
	if !b.eof {
		b.reuse = false
	}
	b.release()
	return nil
}

func (b *clientBody) release() {
	if b.done {
		return
	}
	b.done = true
	b.rc.Close()
	if !b.stop() || !b.reuse { // the context ended meanwhile: the deadline may be set
		b.c.Close()
		return
	}
	b.t.put(b.c)
}

func (t *Transport) put(c *clientConn) {
	max := t.MaxIdleConnsPerHost
	if max == 0 {
		max = 16
	}
	c.reused, c.since = true, time.Now()
	c.watch()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.idle == nil {
		t.idle = map[string][]*clientConn{}
	}
	if len(t.idle[c.key]) >= max {
		c.Close()
		return
	}
	t.idle[c.key] = append(t.idle[c.key], c)
}

func (t *Transport) conn(ctx context.Context, u *url.URL) (*clientConn, error) {
	key := u.Scheme + "://" + u.Host
	timeout := t.IdleConnTimeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	t.mu.Lock()
	for cs := t.idle[key]; len(cs) > 0; cs = t.idle[key] {
		c := cs[len(cs)-1]
		t.idle[key] = cs[:len(cs)-1]
		if time.Since(c.since) < timeout && !c.closedWhileIdle() {
			t.mu.Unlock()
			return c, nil
		}
		c.Close()
	}
	t.mu.Unlock()
	return t.dial(ctx, u, key)
}

func (t *Transport) dial(ctx context.Context, u *url.URL, key string) (*clientConn, error) {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	raw, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn := raw
	if u.Scheme == "https" {
		cfg := t.TLSClientConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		cfg.NextProtos = []string{"http/1.1"}
		timeout := t.TLSHandshakeTimeout
		if timeout == 0 {
			timeout = 15 * time.Second
		}
		hctx, cancel := context.WithTimeout(ctx, timeout)
		tc := tls.Client(raw, cfg)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			raw.Close()
			return nil, err
		}
		conn = tc
	}
	return &clientConn{Conn: conn, rd: NewReader(conn), bw: bufio.NewWriter(conn), key: key}, nil
}
