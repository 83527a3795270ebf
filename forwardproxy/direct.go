package forwardproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/azvcr/azvcr/internal/hostport"
)

// serveDirect answers requests addressed to azvcr itself rather than proxied through it.
func (s *Server) serveDirect(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/azvcr/status" {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.Summary())
		return
	}
	if s.cfg.direct != nil {
		s.cfg.direct.ServeHTTP(w, r)
		return
	}
	http.Error(w, fmt.Sprintf("azvcr is a proxy: send requests through it (HTTPS_PROXY=%s) and trust its CA (%s); GET /azvcr/status reports counts",
		s.URL(), s.ca.CertPath), http.StatusBadRequest)
}

// isSelf reports whether addr (host:port) is one of the proxy's own listening addresses, without
// asking DNS: loopback names in any spelling (LOCALHOST, localhost., x.localhost) are loopback,
// an address bound to all interfaces is reached through any loopback or local address, and a
// name that is neither is checked again, by the address it resolves to, when it is dialed.
func (s *Server) isSelf(addr string) bool {
	if !strings.Contains(addr, ":") { // no port: sameAddr matches nothing (replayed URLs mostly)
		return false
	}
	for _, a := range s.Addrs() {
		if sameAddr(addr, a, s.isLocal) {
			return true
		}
	}
	return false
}

// sameAddr reports whether addr reaches a listener bound to self; isLocal tells this machine's
// own addresses.
func sameAddr(addr, self string, isLocal func(net.IP) bool) bool {
	h, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	lh, lport, _ := net.SplitHostPort(self)
	lip := net.ParseIP(lh)
	if lport != port || lip == nil {
		return false
	}
	ips := []net.IP{hostport.ParseIP(h)}
	if hostport.IsLoopbackName(h) {
		ips = hostport.LoopbackIPs
	}
	for _, ip := range ips {
		if ip != nil && (ip.Equal(lip) || lip.IsUnspecified() && sameFamily(ip, lip) && (ip.IsLoopback() || isLocal(ip))) {
			return true
		}
	}
	return false
}

// sameFamily: a listener bound to 0.0.0.0 takes IPv4 only; one bound to [::] takes both.
func sameFamily(ip, listener net.IP) bool {
	return listener.To4() == nil || ip.To4() != nil
}

// isLocal reports whether ip is one of this machine's interface addresses, read once.
func (s *Server) isLocal(ip net.IP) bool {
	s.localOnce.Do(func() {
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				s.local = append(s.local, n.IP)
			}
		}
	})
	for _, l := range s.local {
		if l.Equal(ip) {
			return true
		}
	}
	return false
}

// refuseDial backs goproxy's own transport, which azvcr never uses: if anything ever tried, it
// would fail loudly rather than connect.
func refuseDial(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("azvcr: goproxy transport is not used")
}
