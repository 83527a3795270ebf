package forwardproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"

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

// isSelf reports whether hostport is one of the proxy's own listening addresses.
func (s *Server) isSelf(hostport string) bool {
	for _, a := range s.Addrs() {
		if sameAddr(hostport, a) {
			return true
		}
	}
	return false
}

func sameAddr(addr, self string) bool {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	sh, sp, _ := net.SplitHostPort(self)
	if p != sp {
		return false
	}
	if h == sh {
		return true
	}
	ip, sip := hostport.ParseIP(h), hostport.ParseIP(sh)
	if h == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return ip != nil && sip != nil && (ip.Equal(sip) || (sip.IsUnspecified() && ip.IsLoopback()))
}

// refuseDial backs goproxy's own transport, which azvcr never uses: if anything ever tried, it
// would fail loudly rather than connect.
func refuseDial(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("azvcr: goproxy transport is not used")
}
