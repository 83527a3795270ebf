package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"sync/atomic"
)

// leafCache mints one certificate per host, once: concurrent first requests for a host wait for
// the same signing. All leaves share one key generated per process; only the signatures differ.
type leafCache struct {
	ca     *CA
	key    *ecdsa.PrivateKey
	mu     sync.Mutex
	byHost map[string]*leafEntry
	minted atomic.Int64
}

type leafEntry struct {
	once sync.Once
	cert *tls.Certificate
	err  error
}

func newLeafCache(ca *CA) (*leafCache, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &leafCache{ca: ca, key: key, byHost: map[string]*leafEntry{}}, nil
}

func (c *leafCache) get(host string) (*tls.Certificate, error) {
	host = strings.ToLower(host)
	c.mu.Lock()
	e := c.byHost[host]
	if e == nil {
		e = &leafEntry{}
		c.byHost[host] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		e.cert, e.err = c.ca.mintLeaf(host, c.key)
		c.minted.Add(1)
	})
	return e.cert, e.err
}

// tlsConfig is what the client's TLS handshake with azvcr uses for host (from the CONNECT line).
// The SNI name, when the client sends one, wins: it is the name the client will verify.
func (c *leafCache) tlsConfig(connectHost string) *tls.Config {
	fallback := stripPort(connectHost)
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := hello.ServerName
			if name == "" {
				name = fallback
			}
			return c.get(name)
		},
	}
}

func stripPort(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

func parseIP(host string) net.IP { return net.ParseIP(strings.Trim(host, "[]")) }
