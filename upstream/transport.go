// Package upstream is how azvcr reaches real services: a transport that verifies TLS against the
// system roots plus extra CAs and can dial a different address for a host (--resolve), and a
// guard that refuses, without connecting, every host the allow-list does not name and azvcr
// itself. Whatever forwards a request (record, auto, passthrough; every face) goes through it.
package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/azvcr/azvcr/internal/hostport"
	"github.com/azvcr/azvcr/wire"
)

// Options configure the transport to upstreams.
type Options struct {
	CAFiles  []string          // PEM files trusted besides the system roots
	Insecure bool              // skip certificate verification (local emulators only)
	Resolve  map[string]string // host[:port] (lower case) -> address to dial instead
	// IsSelf, when set, is asked about every address dialed (ip:port, after DNS and --resolve):
	// true refuses the connection with a 508 Refusal, so no name leads azvcr back to itself.
	IsSelf func(addr string) bool
}

// NewTransport verifies upstream TLS against the system roots plus extra CA files. It never
// uses a proxy from the environment: HTTPS_PROXY may point at azvcr itself. It speaks HTTP/1.1
// with header names spelled and ordered as the client sent them, and reports the upstream's (see
// wire.Transport): what a recording keeps is the wire, not Go's canonical form of it.
func NewTransport(o Options) (*wire.Transport, error) {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(o.CAFiles) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		for _, f := range o.CAFiles {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("upstream CA: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("upstream CA %s: no PEM certificate found", f)
			}
		}
		tlsCfg.RootCAs = pool
	}
	tlsCfg.InsecureSkipVerify = o.Insecure
	return &wire.Transport{
		TLSClientConfig:     tlsCfg,
		DialContext:         resolvingDialer(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: refuseSelf(o.IsSelf)}, o.Resolve),
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 15 * time.Second,
	}, nil
}

// resolvingDialer dials the address --resolve gives for a host, else the host itself. A loopback
// name (localhost in any spelling) is dialed on 127.0.0.1, then ::1, without asking DNS.
func resolvingDialer(d *net.Dialer, resolve map[string]string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, _ := net.SplitHostPort(addr)
		to, ok := resolve[strings.ToLower(addr)]
		if !ok {
			to, ok = resolve[strings.ToLower(host)]
		}
		if ok {
			if _, _, err := net.SplitHostPort(to); err != nil {
				to = net.JoinHostPort(to, port)
			}
			addr = to
			host, port, _ = net.SplitHostPort(addr)
		}
		if !hostport.IsLoopbackName(host) {
			return d.DialContext(ctx, network, addr)
		}
		var err error
		for _, ip := range hostport.LoopbackIPs {
			var c net.Conn
			if c, err = d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port)); err == nil {
				return c, nil
			}
			var refused *Refusal
			if errors.As(err, &refused) {
				return nil, err
			}
		}
		return nil, err
	}
}

// refuseSelf checks each address before a connection is made to it.
func refuseSelf(isSelf func(string) bool) func(network, address string, c syscall.RawConn) error {
	if isSelf == nil {
		return nil
	}
	return func(_, address string, _ syscall.RawConn) error {
		if isSelf(address) {
			return selfRefusal()
		}
		return nil
	}
}
