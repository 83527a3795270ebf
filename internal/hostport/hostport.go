// Package hostport holds the small host-name helpers several packages need: splitting off a port
// and recognising loopback names and addresses.
package hostport

import (
	"net"
	"strings"
)

// StripPort returns the host of host:port (or host alone), without IPv6 brackets.
func StripPort(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// ParseIP parses an IP address that may be written in brackets.
func ParseIP(host string) net.IP { return net.ParseIP(strings.Trim(host, "[]")) }

// IsLoopbackName reports whether host (no port) names this machine by name: localhost or a name
// under it (RFC 6761), in any case, with or without the root's trailing dot. Such names are
// loopback without asking DNS.
func IsLoopbackName(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// IsLoopback reports whether host (no port) is a loopback name or a loopback address.
func IsLoopback(host string) bool {
	if IsLoopbackName(host) {
		return true
	}
	ip := ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LoopbackIPs are the addresses a loopback name stands for.
var LoopbackIPs = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}

// SplitPlain splits a plain authority, host[:port]: a host of ASCII letters, digits, dots and
// hyphens (a DNS name or an IPv4 address) and a port of digits, maybe empty. ok is false for any
// other authority (IPv6, user info, escapes), which callers leave to net/url.
func SplitPlain(authority string) (host, port string, ok bool) {
	host, port, _ = strings.Cut(authority, ":")
	if host == "" || strings.Trim(port, "0123456789") != "" {
		return "", "", false
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return "", "", false
		}
	}
	return host, port, true
}
