// Package upstream is how azvcr reaches real services: a transport that verifies TLS against the
// system roots plus extra CAs and can dial a different address for a host (--resolve), and a
// guard that refuses, without connecting, every host the allow-list does not name and azvcr
// itself. Whatever forwards a request (record, auto, passthrough; every face) goes through it.
package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/azvcr/azvcr/wire"
)

// Options configure the transport to upstreams.
type Options struct {
	CAFiles  []string          // PEM files trusted besides the system roots
	Insecure bool              // skip certificate verification (local emulators only)
	Resolve  map[string]string // host[:port] (lower case) -> address to dial instead
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
		DialContext:         resolvingDialer(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}, o.Resolve),
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 15 * time.Second,
	}, nil
}

// resolvingDialer dials the address --resolve gives for a host, else the host itself.
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
		}
		return d.DialContext(ctx, network, addr)
	}
}
