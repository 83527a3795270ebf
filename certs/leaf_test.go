package certs

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestLeafCacheMintsOncePerHost(t *testing.T) {
	c, err := NewLeaves(newTestCA(t))
	if err != nil {
		t.Fatal(err)
	}
	const host = "example.documents.azure.com"
	const n = 50
	certs := make([]*tls.Certificate, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			certs[i], errs[i] = c.Certificate(host)
		}()
	}
	close(start)
	wg.Wait()
	for i := range certs {
		if errs[i] != nil {
			t.Fatalf("get #%d: %v", i, errs[i])
		}
		if certs[i] == nil || certs[i] != certs[0] {
			t.Fatalf("get #%d returned %p, want the shared %p", i, certs[i], certs[0])
		}
	}
	if got := c.Minted(); got != 1 {
		t.Errorf("minted = %d, want 1", got)
	}

	// Host names are case-insensitive: no second certificate.
	if upper, err := c.Certificate("EXAMPLE.Documents.Azure.com"); err != nil || upper != certs[0] {
		t.Errorf("upper-case get = %p, %v; want the cached %p", upper, err, certs[0])
	}
	if got := c.Minted(); got != 1 {
		t.Errorf("minted after upper-case get = %d, want 1", got)
	}

	// Another host gets its own certificate, signed with the same per-process key.
	other, err := c.Certificate("other.documents.azure.com")
	if err != nil {
		t.Fatal(err)
	}
	if other == certs[0] {
		t.Error("two hosts share one certificate")
	}
	if got := c.Minted(); got != 2 {
		t.Errorf("minted = %d, want 2", got)
	}
	if other.PrivateKey != certs[0].PrivateKey {
		t.Error("leaves do not share the per-process key")
	}
}

func TestLeafVerifies(t *testing.T) {
	ca := newTestCA(t)
	c, err := NewLeaves(ca)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host     string
		verifyAs string
		wantDNS  []string
		wantIP   net.IP
		wrong    string // a name the leaf must not be valid for
	}{
		{host: "acct.documents.azure.com", verifyAs: "acct.documents.azure.com", wantDNS: []string{"acct.documents.azure.com"}, wrong: "evil.documents.azure.com"},
		{host: "localhost", verifyAs: "localhost", wantDNS: []string{"localhost"}, wrong: "127.0.0.1"},
		{host: "127.0.0.1", verifyAs: "127.0.0.1", wantIP: net.ParseIP("127.0.0.1"), wrong: "127.0.0.2"},
		{host: "::1", verifyAs: "::1", wantIP: net.ParseIP("::1"), wrong: "127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			cert, err := c.Certificate(tc.host)
			if err != nil {
				t.Fatal(err)
			}
			if len(cert.Certificate) != 2 {
				t.Fatalf("chain has %d certificates, want leaf and CA", len(cert.Certificate))
			}
			leaf, err := x509.ParseCertificate(cert.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			if cert.Leaf == nil || !cert.Leaf.Equal(leaf) {
				t.Error("Leaf field does not match the chain")
			}
			opts := x509.VerifyOptions{Roots: ca.Pool(), DNSName: tc.verifyAs, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
			if _, err := leaf.Verify(opts); err != nil {
				t.Errorf("verify as %s: %v", tc.verifyAs, err)
			}
			opts.DNSName = tc.wrong
			if _, err := leaf.Verify(opts); err == nil {
				t.Errorf("leaf for %s also verifies as %s", tc.host, tc.wrong)
			}
			if tc.wantIP != nil {
				// Loopback IP leaves also name localhost (see TestLoopbackLeafAlsoNamesLocalhost).
				if len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(tc.wantIP) || !slices.Equal(leaf.DNSNames, []string{"localhost"}) {
					t.Errorf("SANs = DNS %v IP %v, want IP %v and DNS localhost", leaf.DNSNames, leaf.IPAddresses, tc.wantIP)
				}
			} else if len(leaf.IPAddresses) != 0 || len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != tc.wantDNS[0] {
				t.Errorf("SANs = DNS %v IP %v, want DNS %v only", leaf.DNSNames, leaf.IPAddresses, tc.wantDNS)
			}
			if leaf.IsCA {
				t.Error("leaf is a CA")
			}
			if left := time.Until(leaf.NotAfter); left <= 0 || left > leafValidity {
				t.Errorf("leaf valid for %v more, want (0, %v]", left, leafValidity)
			}
			// Another CA must not vouch for it.
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: newTestCA(t).Pool(), DNSName: tc.verifyAs}); err == nil {
				t.Error("leaf verifies against an unrelated CA")
			}
		})
	}
}

func TestLeafTLSConfig(t *testing.T) {
	c, err := NewLeaves(newTestCA(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.TLSConfig("127.0.0.1:8081")
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", cfg.MinVersion)
	}
	tests := []struct {
		sni  string
		want string // the certificate subject
	}{
		{"", "127.0.0.1"}, // clients send no SNI for IP addresses: the CONNECT host is used
		{"acct.documents.azure.com", "acct.documents.azure.com"},
		{"ACCT.documents.azure.com", "acct.documents.azure.com"},
	}
	for _, tc := range tests {
		cert, err := cfg.GetCertificate(&tls.ClientHelloInfo{ServerName: tc.sni})
		if err != nil {
			t.Fatalf("SNI %q: %v", tc.sni, err)
		}
		if cert.Leaf.Subject.CommonName != tc.want {
			t.Errorf("SNI %q: certificate for %q, want %q", tc.sni, cert.Leaf.Subject.CommonName, tc.want)
		}
	}
	v6, err := c.TLSConfig("[::1]:443").GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v6.Leaf.IPAddresses) != 1 || !v6.Leaf.IPAddresses[0].Equal(net.IPv6loopback) {
		t.Errorf("[::1]:443 without SNI: IP SANs %v", v6.Leaf.IPAddresses)
	}
}

// A real handshake with a client that trusts only the CA.
func TestLeafHandshake(t *testing.T) {
	ca := newTestCA(t)
	c, err := NewLeaves(ca)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, name := range []string{"acct.documents.azure.com", "127.0.0.1"} {
		done := make(chan error, 1)
		go func() {
			conn, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			defer conn.Close()
			done <- tls.Server(conn, c.TLSConfig("127.0.0.1:443")).Handshake()
		}()
		raw, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		cl := tls.Client(raw, &tls.Config{RootCAs: ca.Pool(), ServerName: name})
		if err := cl.Handshake(); err != nil {
			t.Errorf("client handshake for %s: %v", name, err)
		}
		if err := <-done; err != nil {
			t.Errorf("server handshake for %s: %v", name, err)
		}
		raw.Close()
	}
}

// Node's https-proxy-agent checks a tunnel to a loopback IP against "localhost".
func TestLoopbackLeafAlsoNamesLocalhost(t *testing.T) {
	c, err := NewLeaves(newTestCA(t))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.Certificate("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.Leaf.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	if err := cert.Leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
}

// The cache keeps the hosts used last, up to LeafCacheSize: one more host evicts the one used
// least recently (which is minted again when it returns), and a host in use stays.
func TestLeafCacheIsBounded(t *testing.T) {
	c, err := NewLeaves(newTestCA(t))
	if err != nil {
		t.Fatal(err)
	}
	host := func(i int) string { return fmt.Sprintf("h%d.documents.azure.com", i) }
	for i := range LeafCacheSize {
		if _, err := c.Certificate(host(i)); err != nil {
			t.Fatal(err)
		}
	}
	c.Certificate(host(0)) // used again: now the most recent
	for i := LeafCacheSize; i < LeafCacheSize+10; i++ {
		c.Certificate(host(i))
	}
	if n := c.Cached(); n != LeafCacheSize {
		t.Errorf("%d leaves cached, want %d", n, LeafCacheSize)
	}
	minted := c.Minted()
	c.Certificate(host(0))
	if c.Minted() != minted {
		t.Error("the most recently used host was evicted")
	}
	c.Certificate(host(1)) // evicted: the least recently used
	if c.Minted() != minted+1 {
		t.Errorf("minted %d, want %d: an evicted host is minted again", c.Minted(), minted+1)
	}
}
