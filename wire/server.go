package wire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Server answers HTTP/1.1 on connections with an http.Handler, as net/http's server does, but
// keeps the wire: the handler finds the names of the request's header lines in the Exchange of
// the request's context, and what it answers with Respond (or a Response names it sets on that
// Exchange) is written with its reason phrase and its names in their spelling and order. Answers
// are buffered and sent with their length. A handler may hijack the connection (CONNECT).
type Server struct {
	Handler http.Handler
	// IdleTimeout bounds the wait for the next request on a connection (default 2 minutes; a
	// deadline set less than IdleTimeout/8 ago is kept, so the wait may end up to that much
	// sooner), HeaderTimeout the reading of its head once it starts and is not yet whole in the
	// buffer (default 30 s).
	IdleTimeout, HeaderTimeout time.Duration
	Log                        *slog.Logger // nil discards
}

// Serve answers the connections ln accepts until it fails (it is closed).
func (s *Server) Serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			return err
		}
		go s.ServeConn(c)
	}
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// writeBuffer is the size of each connection's write buffer: a whole TLS record (16 KiB of
// plaintext), so an answer that fits goes out in one record and one write.
const writeBuffer = 16 << 10

// ServeConn answers the requests on c, one after another, until the peer closes it, an answer
// closes it, or a handler hijacks it. c is closed unless hijacked.
func (s *Server) ServeConn(c net.Conn) {
	hijacked := false
	defer func() {
		if !hijacked {
			c.Close()
		}
	}()
	idle, header := s.IdleTimeout, s.HeaderTimeout
	if idle == 0 {
		idle = 2 * time.Minute
	}
	if header == 0 {
		header = 30 * time.Second
	}
	rd := NewReader(c)
	bw := bufio.NewWriterSize(c, writeBuffer)
	var tlsState *tls.ConnectionState // the same for every request on c, as net/http shares it
	remote := c.RemoteAddr().String()
	// idleSince is when the read deadline in place was set to the idle timeout; zero when the
	// deadline is another. A deadline set recently is kept rather than set again for every
	// request (a call into the runtime's poller, and for TLS a lock): the wait for the next
	// request is then bounded by between 7/8 of IdleTimeout and all of it.
	var idleSince time.Time
	for {
		if now := time.Now(); idleSince.IsZero() || now.Sub(idleSince) > idle/8 {
			c.SetReadDeadline(now.Add(idle))
			idleSince = now
		}
		if _, err := rd.Buffered().Peek(1); err != nil {
			return
		}
		// A head whole in the buffer (one TLS record or segment carries it) is read without
		// waiting on the connection: the header deadline is for a head still arriving.
		end := headEnd(rd.Buffered())
		if end < 0 {
			c.SetReadDeadline(time.Now().Add(header))
			idleSince = time.Time{}
		}
		// The context is made first, so that the request is made once, with it.
		xc := &exchangeCtx{Context: context.Background()}
		x := &xc.x
		ctx, cancel := context.WithCancel(xc)
		req, names, err := rd.readRequest(ctx, end)
		if err != nil {
			cancel()
			s.log().Debug("unreadable request", "remote", c.RemoteAddr(), "err", err)
			status, msg := "400 Bad Request", "malformed HTTP request\n"
			if errors.Is(err, ErrHeadTooLarge) {
				status, msg = "431 Request Header Fields Too Large", "request head larger than 1 MiB\n"
			}
			fmt.Fprintf(bw, "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
				status, len(msg), msg)
			bw.Flush()
			return
		}
		x.Request = names
		var body *requestBody // nil for a request without a body, which keeps http.NoBody (readers recognise it)
		if req.Body != http.NoBody {
			// The handler reads the body at its own pace: no deadline then. Without a body, the
			// deadline in place stays: nothing reads the connection during the handler (Hijack
			// clears it), and the next wait sets it again if it has aged.
			c.SetReadDeadline(time.Time{})
			idleSince = time.Time{}
			body = &requestBody{rc: req.Body}
			req.Body = body
		}
		req.RemoteAddr = remote
		if tc, ok := c.(*tls.Conn); ok {
			if tlsState == nil {
				cs := tc.ConnectionState()
				tlsState = &cs
			}
			req.TLS = tlsState
		}
		if strings.EqualFold(req.Header.Get("Expect"), "100-continue") && req.ContentLength != 0 {
			bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			bw.Flush()
		}
		w := &responseWriter{conn: c, rd: rd, bw: bw, exchange: x}
		s.serve(w, req)
		cancel()
		if w.hijacked {
			hijacked = true
			return
		}
		// What the handler left of the body is read (up to a limit) so the next request can be;
		// not when the answer closes the connection anyway (a body refused as too large).
		drained := !w.closes() && body.drain()
		closing := req.Close || !drained || w.panicked
		if err := w.finish(req, closing); err != nil || closing {
			if body.unread() {
				lingerClose(c)
			}
			return
		}
	}
}

func (s *Server) serve(w *responseWriter, req *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				w.panicked = true
				return
			}
			s.log().Error("handler panicked", "method", req.Method, "url", req.URL.String(), "panic", p)
			w.panicked = true
			if w.resp == nil && !w.wroteHeader {
				w.header = http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
				w.WriteHeader(http.StatusInternalServerError)
				w.body.Reset()
			}
		}
	}()
	s.Handler.ServeHTTP(w, req)
}

// lingerDelay is how long a connection closed on an unread request body is read (and what it
// reads discarded) before it is closed: closing at once would reset it, and the client, still
// sending, could lose the answer (413 for a body too large) before reading it. net/http waits
// likewise.
const lingerDelay = 500 * time.Millisecond

func lingerClose(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(lingerDelay))
	io.Copy(io.Discard, c)
}

// requestBody notes whether the handler read the body to its end or closed it (which reads the
// rest: net/http's request bodies are consumed on Close).
type requestBody struct {
	rc   io.ReadCloser
	done bool
}

func (b *requestBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.done = true
	}
	return n, err
}

func (b *requestBody) Close() error {
	err := b.rc.Close()
	b.done = b.done || err == nil
	return err
}

// unread reports a body not read to its end (none for nil, a request without a body).
func (b *requestBody) unread() bool { return b != nil && !b.done }

// drain reads what the handler left of the body, up to a limit, so the next request can be read;
// true for nil (no body).
func (b *requestBody) drain() bool {
	if b == nil || b.done {
		return true
	}
	n, err := io.Copy(io.Discard, io.LimitReader(b.rc, 1<<20))
	if err != nil || n == 1<<20 {
		return false // more is left: the connection closes rather than read it (Close would)
	}
	return b.Close() == nil
}

// Respond answers with resp: through a Server, as the wire has it (reason phrase, names); through
// another http.ResponseWriter, with the names' spelling where net/http keeps it (not the framing
// headers, which it looks up by their canonical names) and its order of names.
func Respond(w http.ResponseWriter, resp *http.Response, names []string) {
	if rw, ok := w.(*responseWriter); ok {
		rw.resp, rw.exchange.Response = resp, names
		return
	}
	defer resp.Body.Close()
	dst := w.Header()
	for _, f := range Fields(resp.Header, names) {
		name := f.Name
		switch ck := http.CanonicalHeaderKey(name); ck {
		case "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Date":
			name = ck
		}
		dst[name] = append(dst[name], f.Value)
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// responseWriter buffers a handler's answer; finish writes it.
type responseWriter struct {
	conn     net.Conn
	rd       *Reader
	bw       *bufio.Writer
	exchange *Exchange

	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
	resp        *http.Response // set by Respond
	hijacked    bool
	panicked    bool
}

// Header is made when first asked for: an answer given with Respond has its own.
func (w *responseWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *responseWriter) WriteHeader(code int) {
	if w.wroteHeader || code < 200 { // informational answers are not relayed
		return
	}
	w.wroteHeader, w.status = true, code
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// Hijack hands the connection to the handler, with what was read of it and not yet consumed.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.wroteHeader || w.resp != nil {
		return nil, nil, errors.New("wire: hijack after the answer started")
	}
	w.hijacked = true
	w.conn.SetDeadline(time.Time{})
	return w.conn, bufio.NewReadWriter(w.rd.Buffered(), w.bw), nil
}

// closes reports an answer that ends the connection.
func (w *responseWriter) closes() bool {
	if w.resp != nil {
		return w.resp.Close || w.asksToClose(w.resp.Header)
	}
	return strings.EqualFold(w.header.Get("Connection"), "close")
}

// asksToClose reports a Connection: close in h. A header a Head was made of has no Connection
// line (NewHead takes none), which spares the lookup: a replayed answer's header is one of many
// kept, and reading it is a cache miss.
func (w *responseWriter) asksToClose(h http.Header) bool {
	if hd := w.exchange.head; hd != nil && sameMap(hd.header, h) {
		return false
	}
	return strings.EqualFold(h.Get("Connection"), "close")
}

func (w *responseWriter) finish(req *http.Request, closing bool) error {
	resp := w.resp
	if resp == nil {
		if !w.wroteHeader {
			w.WriteHeader(http.StatusOK)
		}
		h := w.Header()
		if h.Get("Content-Type") == "" && w.body.Len() > 0 {
			h.Set("Content-Type", http.DetectContentType(w.body.Bytes()))
		}
		resp = &http.Response{StatusCode: w.status, Header: h, ContentLength: int64(w.body.Len()), Body: io.NopCloser(&w.body)}
	}
	if resp.Header.Get("Date") == "" && w.resp == nil {
		resp.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	if w.asksToClose(resp.Header) {
		closing = true
	}
	if resp.ContentLength < 0 { // an answer of unknown length is read whole, so it is sent with its length
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(data)), int64(len(data))
	}
	return writeResponse(w.bw, req, resp, w.exchange.Response, closing, w.exchange.head)
}
