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
