package forwardproxy

import (
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/internal/httpcheck"
)

// A request addressed to azvcr itself is refused (508) however the loopback name is spelled,
// without asking DNS, and so is a name that --resolve points at azvcr: the address dialed is
// checked too. Before, http://LOCALHOST:<port>/ reached azvcr and was recorded, and localhost.
// went to DNS.
func TestSelfLoopRefusedInAnySpelling(t *testing.T) {
	// --resolve must name azvcr's own address before it listens: take a free port, and try
	// again in the unlikely case another process takes it in between.
	var s *Server
	var addr string
	for try := 0; s == nil; try++ {
		reserve, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = reserve.Addr().String()
		reserve.Close()
		srv, err := New(engine.Passthrough, WithCA(testCA(t)), WithLogger(httpcheck.DiscardLogger()),
			WithResolve("management.azure.com", addr), WithAllowedHosts("api.localhost"))
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(addr); err != nil {
			srv.Close()
			if try == 5 {
				t.Fatalf("listening on %s: %v", addr, err)
			}
			continue
		}
		s = srv
	}
	t.Cleanup(func() { s.Close() })
	_, port, _ := net.SplitHostPort(addr)
	c := proxiedClient(t, s)
	for _, u := range []string{
		"http://localhost:" + port + "/azvcr/status",
		"http://LOCALHOST:" + port + "/azvcr/status",
		"http://localhost.:" + port + "/azvcr/status",
		"http://LocalHost.:" + port + "/azvcr/status",
		"http://api.localhost:" + port + "/azvcr/status",
		"http://127.0.0.1:" + port + "/azvcr/status",
		"https://LOCALHOST:" + port + "/azvcr/status",
		"https://management.azure.com:" + port + "/subscriptions", // --resolve leads back to azvcr
		"https://management.azure.com/subscriptions",              // port 443 mapped to azvcr's port too
	} {
		r := httpcheck.Do(t, c, "GET", u, "")
		if r.Code != http.StatusLoopDetected || !strings.Contains(r.Body, "to itself") {
			t.Errorf("%s: %d %.200q, want 508", u, r.Code, r.Body)
		}
	}
	if sum := s.Summary(); sum.Forwarded != 0 {
		t.Errorf("%d requests forwarded", sum.Forwarded)
	}
}

// record refuses a cassette that already holds interactions unless told to overwrite it, and
// with WithOverwrite the old file stays until the first new interaction is written.
func TestRecordKeepsAnExistingCassette(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kept.yaml")
	old := cassettetest.WithIDs(cassettetest.SampleInteractions(t))
	if err := cassette.Save(path, &cassette.Cassette{Interactions: old}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	_, err := New(engine.Record, WithCA(testCA(t)), WithLogger(httpcheck.DiscardLogger()), WithCassette(path))
	var re *cassette.ReplaceError
	if !errors.As(err, &re) || re.Interactions != len(old) {
		t.Fatalf("New(record) over %d interactions: %v, want a ReplaceError", len(old), err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("the refused recording changed the cassette")
	}

	up := newUpstream(t)
	s := startServer(t, engine.Record, WithCassette(path), WithOverwrite(), WithUpstreamCA(up.caFile))
	if n := len(loadCassette(t, path).Interactions); n != len(old) {
		t.Errorf("with WithOverwrite, before any request: %d interactions, want the old %d", n, len(old))
	}
	httpcheck.Expect(t, "record", httpcheck.Do(t, proxiedClient(t, s), "GET", up.URL+"/dbs", ""), 200, dbsBody)
	if c := loadCassette(t, path); len(c.Interactions) != 1 || !strings.HasSuffix(c.Interactions[0].Request.URL, "/dbs") {
		t.Errorf("after one request: %d interactions", len(c.Interactions))
	}
}
