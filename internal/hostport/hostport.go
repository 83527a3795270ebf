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

// IsLoopback reports whether host (no port) is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
