package forwardproxy

import (
	"bufio"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/internal/hostport"
	"github.com/azvcr/azvcr/upstream"
	"github.com/azvcr/azvcr/wire"
)

// serveFront answers what arrives on a listener: CONNECT is intercepted, a request in absolute
// form (plain HTTP through the proxy) goes to the engine, anything else is addressed to azvcr.
func (s *Server) serveFront(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		s.connect(w, r)
	case r.URL.IsAbs():
		s.proxy(w, r)
	default:
		s.serveDirect(w, r)
	}
}

// proxy hands one request to the engine and answers with what it gives, names and reason phrase
// as recorded or as the upstream sent them.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request) {
	resp := s.engine.Handle(r)
	wire.Respond(w, resp, wire.From(r.Context()).ResponseNames())
}

// connect intercepts a CONNECT: a host off the allow-list gets 403, in replay too unless the
// recording holds it (replay connects nowhere, but answers as recording did); every other
// connection is taken over, answered 200, and its TLS terminated with a leaf for the host.
func (s *Server) connect(w http.ResponseWriter, r *http.Request) {
	host := r.URL.Host
	if host == "" {
		host = r.Host
	}
	if rf := s.refusal(host); rf != nil {
		s.log.Warn("refused CONNECT to a host not on the allow-list", "host", host)
		resp := engine.ErrorResponse(r, rf.Status, rf.Message)
		resp.Header.Set("Connection", "close")
		wire.Respond(w, resp, nil)
		return
	}
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		s.log.Warn("CONNECT: cannot take over the connection", "err", err)
		return
	}
	rw.WriteString("HTTP/1.1 200 OK\r\n\r\n")
	if err := rw.Flush(); err != nil {
		conn.Close()
		return
	}
	go s.intercept(&bufferedConn{Conn: conn, r: rw.Reader}, host, r.RemoteAddr)
}

func (s *Server) refusal(host string) *upstream.Refusal {
	if s.engine.Mode().Forwards() {
		if !s.allow.Allows(host) {
			return &upstream.Refusal{Status: http.StatusForbidden, Message: upstream.NotAllowedMessage(host)}
		}
		return nil
	}
	return s.engine.Refuses(host)
}

// intercept serves the requests inside a CONNECT tunnel: TLS with a leaf for host (or plain HTTP,
// which some clients send), each request made absolute and handed to the engine.
func (s *Server) intercept(conn net.Conn, host, remote string) {
	scheme := "http"
	if first, err := conn.(*bufferedConn).r.Peek(1); err == nil && first[0] == 0x16 { // a TLS handshake record
		tc := tls.Server(conn, s.leaves.TLSConfig(host))
		tc.SetDeadline(time.Now().Add(30 * time.Second))
		if err := tc.Handshake(); err != nil {
			s.handshakeFailed(host, err)
			conn.Close()
			return
		}
		tc.SetDeadline(time.Time{})
		conn, scheme = tc, "https"
	}
	inner := &wire.Server{Log: s.log, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			authority := r.Host
			if authority == "" {
				authority = host
			}
			u, err := absoluteURL(scheme, authority, r.URL)
			if err != nil {
				wire.Respond(w, engine.ErrorResponse(r, http.StatusBadRequest, "azvcr: bad request target: "+err.Error()), nil)
				return
			}
			r.URL = u
		}
		r.RemoteAddr = remote
		s.proxy(w, r)
	})}
	inner.ServeConn(conn)
}

// absoluteURL is the URL of a request target in origin form sent to authority: what url.Parse
// makes of scheme://authority followed by the target, built without parsing again when the
// authority is a plain host[:port] and the target a plain path and query.
func absoluteURL(scheme, authority string, target *url.URL) (*url.URL, error) {
	if !plainAuthority(authority) || target.Scheme != "" || target.Opaque != "" || target.User != nil || target.Host != "" ||
		target.RawPath != "" || target.Fragment != "" || target.RawFragment != "" || !strings.HasPrefix(target.Path, "/") ||
		strings.Contains(target.RawQuery, "#") {
		return url.Parse(scheme + "://" + authority + target.String())
	}
	u := *target
	u.Scheme, u.Host = scheme, authority
	return &u, nil
}

// plainAuthority: letters, digits, dots and dashes, then an optional port.
func plainAuthority(a string) bool {
	_, _, ok := hostport.SplitPlain(a)
	return ok
}

// bufferedConn reads first what was buffered when the connection was taken over.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
