package forwardproxy

import (
	"bufio"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/internal/httpcheck"
)

// HEAD answers keep the length a GET would get, recorded and replayed.
func TestHeadKeepsContentLength(t *testing.T) {
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1234")
		if r.Method != http.MethodHead {
			w.Write(make([]byte, 1234))
		}
	}))
	defer up.Close()
	cas := filepath.Join(t.TempDir(), "head.yaml")
	rec := startServer(t, engine.Record, WithCassette(cas), WithUpstreamInsecure())
	check := func(s *Server, what string) {
		resp, err := proxiedClient(t, s).Head(up.URL + "/blob")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ContentLength != 1234 {
			t.Errorf("%s: HEAD Content-Length %d, want 1234", what, resp.ContentLength)
		}
	}
	check(rec, "record")
	rec.Close()
	if got := loadCassette(t, cas).Interactions[0].Response.Headers.Get("Content-Length"); got != "1234" {
		t.Errorf("recorded HEAD Content-Length %q", got)
	}
	check(startServer(t, engine.Replay, WithCassette(cas)), "replay")
}

// An empty significant header is the same as none, and never takes the proxy down.
func TestEmptySignificantHeaderReplays(t *testing.T) {
	path, base := writeCassette(t, 1)
	s := startServer(t, engine.Replay, WithCassette(path))
	c := proxiedClient(t, s)
	r := httpcheck.Do(t, c, "GET", base+"/items/0", "", "X-Ms-Continuation", "")
	if r.Code != http.StatusOK {
		t.Fatalf("empty continuation header: %d %s", r.Code, r.Body)
	}
	r = httpcheck.Do(t, c, "GET", base+"/items/0", "", "X-Ms-Continuation", "")
	if r.Code != engine.MissStatus || !strings.Contains(r.Body, "already used") {
		t.Fatalf("second request: %d %s", r.Code, r.Body)
	}
	if r = httpcheck.Do(t, c, "GET", base+"/items/0", ""); r.Code != engine.MissStatus {
		t.Fatalf("proxy no longer answering after an empty header: %d", r.Code)
	}
}

func TestRefusedConnectCarriesErrorHeader(t *testing.T) {
	s := startServer(t, engine.Record, WithCassette(filepath.Join(t.TempDir(), "c.yaml")))
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "CONNECT"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get(engine.ErrorHeader), "example.com is not an allowed upstream") {
		t.Errorf("CONNECT refusal %d, %s header %q", resp.StatusCode, engine.ErrorHeader, resp.Header.Get(engine.ErrorHeader))
	}
}

// --resolve: a production host name is forwarded to a local server, TLS verified for the name.
func TestResolveForwardsHostToAddress(t *testing.T) {
	ca := testCA(t) // the test server's certificate is for management.azure.com, from this CA
	leaves, err := certs.NewLeaves(ca)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := leaves.Certificate("management.azure.com")
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "arm %s %s", r.Host, r.URL.Path)
	}))
	up.TLS = &tls.Config{Certificates: []tls.Certificate{*leaf}}
	up.StartTLS()
	defer up.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate().Raw}), 0o644)

	s := startServer(t, engine.Passthrough, WithUpstreamCA(caFile), WithResolve("management.azure.com", up.Listener.Addr().String()))
	r := httpcheck.Do(t, proxiedClient(t, s), "GET", "https://management.azure.com/subscriptions", "")
	if r.Code != 200 || r.Body != "arm management.azure.com /subscriptions" {
		t.Errorf("resolved request: %d %q", r.Code, r.Body)
	}
}

// Redaction runs on live requests in replay too: a real subscription id in a test's URL matches
// the zero GUID the cassette holds.
func TestRedactedRecordingMatchesLiveValues(t *testing.T) {
	const sub = "6f2b4a51-93c4-4a0e-9b1d-2c7f0d8e1a3b"
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://"+r.Host+r.URL.Path+"/op")
		fmt.Fprintf(w, `{"id":%q}`, r.URL.Path)
	}))
	defer up.Close()
	cas := filepath.Join(t.TempDir(), "ids.yaml")
	url := up.URL + "/subscriptions/" + sub + "/resourceGroups/rg"
	rec := startServer(t, engine.Record, WithCassette(cas), WithUpstreamInsecure())
	recorded := httpcheck.Do(t, proxiedClient(t, rec), "GET", url, "", "Authorization", "Bearer live-token")
	rec.Close()
	raw, _ := os.ReadFile(cas)
	if strings.Contains(string(raw), sub) || strings.Contains(string(raw), "live-token") {
		t.Fatalf("the cassette holds the subscription id or token:\n%s", raw)
	}
	play := startServer(t, engine.Replay, WithCassette(cas))
	got := httpcheck.Do(t, proxiedClient(t, play), "GET", url, "", "Authorization", "Bearer another-token")
	if got.Code != 200 {
		t.Fatalf("replay with the live subscription id: %d %s", got.Code, got.Body)
	}
	if !strings.Contains(got.Body, "00000000-0000-0000-0000-000000000000") || recorded.Code != 200 {
		t.Errorf("replayed body %s", got.Body)
	}
}

func TestWithAllowedHosts(t *testing.T) {
	ca := testCA(t)
	s, err := New(engine.Passthrough, WithCA(ca), WithLogger(httpcheck.DiscardLogger()), WithAllowedHosts("example.com", "*.example.org"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for host, want := range map[string]bool{"example.com:443": true, "a.example.org": true, "example.org": false, "acct.documents.azure.com": true, "evil.com": false} {
		if got := s.allow.Allows(host); got != want {
			t.Errorf("allows(%q) = %v, want %v", host, got, want)
		}
	}
	if _, err := New(engine.Passthrough, WithCA(ca), WithLogger(httpcheck.DiscardLogger()), WithAllowedHosts("http://example.com")); err == nil || !strings.Contains(err.Error(), "http://example.com") {
		t.Errorf("New with an invalid allowed host: err = %v", err)
	}
}

// New without WithCA uses (and creates) the CA in the default directory.
func TestNewUsesDefaultCADir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	t.Setenv(certs.CADirEnv, dir)
	s, err := New(engine.Passthrough, WithLogger(httpcheck.DiscardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.CA().Dir != dir {
		t.Errorf("CA dir = %q, want %q", s.CA().Dir, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, certs.CAKeyFile)); err != nil {
		t.Errorf("CA not created in %s: %v", dir, err)
	}
}

func TestSameAddr(t *testing.T) {
	tests := []struct {
		hostport, self string
		want           bool
	}{
		{"127.0.0.1:8080", "127.0.0.1:8080", true},
		{"localhost:8080", "127.0.0.1:8080", true},
		{"127.0.0.1:8081", "127.0.0.1:8080", false},
		{"127.0.0.2:8080", "0.0.0.0:8080", true},
		{"[::1]:8080", "[::]:8080", true},
		{"[::1]:8080", "[::1]:8080", true},
		{"127.0.0.1:8080", "[::1]:8080", false},
		{"10.1.2.3:8080", "127.0.0.1:8080", false},
		{"acct.documents.azure.com:8080", "127.0.0.1:8080", false},
		{"127.0.0.1", "127.0.0.1:80", false}, // no port: not comparable
		// Loopback names in any spelling, without DNS.
		{"LOCALHOST:8080", "127.0.0.1:8080", true},
		{"localhost.:8080", "127.0.0.1:8080", true},
		{"LocalHost.:8080", "[::1]:8080", true},
		{"api.localhost:8080", "127.0.0.1:8080", true},
		{"localhost:8080", "[::]:8080", true},
		{"localhost.example.com:8080", "127.0.0.1:8080", false},
		// Bound to all interfaces: reached through any loopback or local address of its family.
		{"127.0.0.2:8080", "0.0.0.0:8080", true},
		{"192.0.2.7:8080", "0.0.0.0:8080", true}, // local (below)
		{"192.0.2.8:8080", "0.0.0.0:8080", false},
		{"[::1]:8080", "0.0.0.0:8080", false}, // 0.0.0.0 takes IPv4 only
		{"192.0.2.7:8080", "[::]:8080", true},
	}
	local := func(ip net.IP) bool { return ip.Equal(net.ParseIP("192.0.2.7")) }
	for _, tc := range tests {
		if got := sameAddr(tc.hostport, tc.self, local); got != tc.want {
			t.Errorf("sameAddr(%q, %q) = %v, want %v", tc.hostport, tc.self, got, tc.want)
		}
	}
}

// TestIsSelfSkipsPortlessHosts: isSelf answers a host with no colon without listing the
// listeners, which holds only while sameAddr matches such a host with no listener at all.
func TestIsSelfSkipsPortlessHosts(t *testing.T) {
	selves := []string{"127.0.0.1:443", "0.0.0.0:443", "[::]:443", "[::1]:80", "192.0.2.7:443"}
	local := func(net.IP) bool { return true }
	for _, host := range []string{"", "localhost", "127.0.0.1", "acct.documents.azure.com", "LOCALHOST.", "192.0.2.7", "api.localhost"} {
		for _, self := range selves {
			if sameAddr(host, self, local) {
				t.Errorf("sameAddr(%q, %q) = true: isSelf may not skip hosts without a port", host, self)
			}
		}
	}
}
