package proxy

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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

	"github.com/azvcr/azvcr/cassette"
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
	rec := startServer(t, Record, WithCassette(cas), WithUpstreamInsecure())
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
	check(startServer(t, Replay, WithCassette(cas)), "replay")
}

// An empty significant header is the same as none, and never takes the proxy down.
func TestEmptySignificantHeaderReplays(t *testing.T) {
	path, base := writeCassette(t, 1)
	s := startServer(t, Replay, WithCassette(path))
	c := proxiedClient(t, s)
	r := do(t, c, "GET", base+"/items/0", "", "X-Ms-Continuation", "")
	if r.code != http.StatusOK {
		t.Fatalf("empty continuation header: %d %s", r.code, r.body)
	}
	r = do(t, c, "GET", base+"/items/0", "", "X-Ms-Continuation", "")
	if r.code != MissStatus || !strings.Contains(r.body, "already used") {
		t.Fatalf("second request: %d %s", r.code, r.body)
	}
	if r = do(t, c, "GET", base+"/items/0", ""); r.code != MissStatus {
		t.Fatalf("proxy no longer answering after an empty header: %d", r.code)
	}
}

func TestRefusedConnectCarriesErrorHeader(t *testing.T) {
	s := startServer(t, Record, WithCassette(filepath.Join(t.TempDir(), "c.yaml")))
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
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get(ErrorHeader), "example.com is not an allowed upstream") {
		t.Errorf("CONNECT refusal %d, %s header %q", resp.StatusCode, ErrorHeader, resp.Header.Get(ErrorHeader))
	}
}

// --resolve: a production host name is forwarded to a local server, TLS verified for the name.
func TestResolveForwardsHostToAddress(t *testing.T) {
	ca := newTestCA(t) // the test server's certificate is for management.azure.com, from this CA
	leaf, err := ca.mintLeaf("management.azure.com", mustKey(t))
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

	s := startServer(t, Passthrough, WithUpstreamCA(caFile), WithResolve("management.azure.com", up.Listener.Addr().String()))
	r := do(t, proxiedClient(t, s), "GET", "https://management.azure.com/subscriptions", "")
	if r.code != 200 || r.body != "arm management.azure.com /subscriptions" {
		t.Errorf("resolved request: %d %q", r.code, r.body)
	}
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
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
	rec := startServer(t, Record, WithCassette(cas), WithUpstreamInsecure())
	recorded := do(t, proxiedClient(t, rec), "GET", url, "", "Authorization", "Bearer live-token")
	rec.Close()
	raw, _ := os.ReadFile(cas)
	if strings.Contains(string(raw), sub) || strings.Contains(string(raw), "live-token") {
		t.Fatalf("the cassette holds the subscription id or token:\n%s", raw)
	}
	play := startServer(t, Replay, WithCassette(cas))
	got := do(t, proxiedClient(t, play), "GET", url, "", "Authorization", "Bearer another-token")
	if got.code != 200 {
		t.Fatalf("replay with the live subscription id: %d %s", got.code, got.body)
	}
	if !strings.Contains(got.body, "00000000-0000-0000-0000-000000000000") || recorded.code != 200 {
		t.Errorf("replayed body %s", got.body)
	}
}

// Recordings from other SDKs spell header names in lower case; replay still drops the stored
// body's content-encoding and sends one, true, length.
func TestLowerCaseRecordedHeaders(t *testing.T) {
	rec := &cassette.Response{Code: 200, Body: "plain", Headers: http.Header{"content-encoding": {"gzip"}, "content-length": {"999"}, "x-other": {"a"}}}
	r, _ := http.NewRequest("GET", "https://a/", nil)
	resp := responseFromCassette(r, rec)
	if resp.Header.Get("Content-Encoding") != "" || len(resp.Header.Values("Content-Length")) != 1 || resp.Header.Get("Content-Length") != "5" || resp.Header.Get("X-Other") != "a" {
		t.Errorf("headers %v", resp.Header)
	}
}
