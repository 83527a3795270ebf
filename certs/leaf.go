package certs

import (
	"container/list"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/azvcr/azvcr/internal/hostport"
)

// Leaves mints one certificate per host, once: concurrent first requests for a host wait for
// the same signing. All leaves share one key generated per process; only the signatures differ.
// The cache keeps the LeafCacheSize hosts used most recently: a client naming endless hosts
// costs signatures, not memory.
type Leaves struct {
	ca     *CA
	key    *ecdsa.PrivateKey
	mu     sync.Mutex
	byHost map[string]*list.Element // of *leafEntry; the front is the host used last
	order  *list.List
	max    int
	minted atomic.Int64
}

// LeafCacheSize is how many hosts' leaves are kept. A test run talks to a handful of hosts.
const LeafCacheSize = 1000

type leafEntry struct {
	host string
	once sync.Once
	cert *tls.Certificate
	err  error
}

// NewLeaves starts an empty cache of leaves signed by ca.
func NewLeaves(ca *CA) (*Leaves, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Leaves{ca: ca, key: key, byHost: map[string]*list.Element{}, order: list.New(), max: LeafCacheSize}, nil
}

// Certificate returns the leaf for host, minting it on first use.
func (c *Leaves) Certificate(host string) (*tls.Certificate, error) {
	host = strings.ToLower(host)
	c.mu.Lock()
	var e *leafEntry
	if el := c.byHost[host]; el != nil {
		c.order.MoveToFront(el)
		e = el.Value.(*leafEntry)
	} else {
		e = &leafEntry{host: host}
		c.byHost[host] = c.order.PushFront(e)
		for c.order.Len() > c.max {
			oldest := c.order.Back()
			c.order.Remove(oldest)
			delete(c.byHost, oldest.Value.(*leafEntry).host)
		}
	}
	c.mu.Unlock()
	e.once.Do(func() {
		e.cert, e.err = c.ca.mintLeaf(host, c.key)
		c.minted.Add(1)
	})
	return e.cert, e.err
}

// TLSConfig is what the client's TLS handshake with azvcr uses for host (from the CONNECT line).
// The SNI name, when the client sends one, wins: it is the name the client will verify.
func (c *Leaves) TLSConfig(connectHost string) *tls.Config {
	fallback := hostport.StripPort(connectHost)
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := hello.ServerName
			if name == "" {
				name = fallback
			}
			return c.Certificate(name)
		},
	}
}

// Cached counts the hosts whose leaves are kept.
func (c *Leaves) Cached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// Minted counts the certificates signed so far.
func (c *Leaves) Minted() int64 { return c.minted.Load() }
