package upstream

import (
	"fmt"
	"strings"

	"github.com/azvcr/azvcr/internal/hostport"
)

// DefaultAllowedHosts are the upstreams azvcr forwards to without being told: Cosmos DB accounts
// (and their regional endpoints), Azure Resource Manager, Entra ID, and loopback emulators.
var DefaultAllowedHosts = []string{"*.documents.azure.com", "management.azure.com", "login.microsoftonline.com", "localhost", "loopback"}

// AllowList decides which hosts azvcr may open connections to. It is what keeps azvcr from being an
// open proxy: anything else is answered 403 without a connection.
type AllowList struct {
	exact    map[string]bool
	suffixes []string // ".documents.azure.com" for "*.documents.azure.com"
	loopback bool
}

// NewAllowList reads patterns: exact host names (a port is ignored), *.suffix, or "loopback".
func NewAllowList(patterns []string) (*AllowList, error) {
	a := &AllowList{exact: map[string]bool{}}
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if p == "loopback" {
			a.loopback = true
			continue
		}
		name := strings.TrimPrefix(p, "*.")
		if name == "" || strings.ContainsAny(name, "*/ ") {
			return nil, fmt.Errorf("allowed host %q: want a host name, *.suffix or loopback", p)
		}
		if name != p {
			a.suffixes = append(a.suffixes, "."+name)
		} else {
			a.exact[hostport.StripPort(p)] = true
		}
	}
	return a, nil
}

// Allows reports whether host (with or without a port) may be contacted.
func (a *AllowList) Allows(addr string) bool {
	host := strings.ToLower(strings.TrimSuffix(hostport.StripPort(addr), "."))
	if a.exact[host] {
		return true
	}
	for _, s := range a.suffixes {
		if strings.HasSuffix(host, s) && len(host) > len(s) {
			return true
		}
	}
	if a.loopback {
		if ip := hostport.ParseIP(host); ip != nil && ip.IsLoopback() {
			return true
		}
	}
	return false
}
