package forwardproxy

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/internal/hostport"
	"github.com/azvcr/azvcr/internal/httpcheck"
)

func TestRecordRefusesHostsNotAllowed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "refused.yaml")
	rt := &countingTransport{}
	s := startServer(t, engine.Record, WithCassette(path), WithUpstreamTransport(rt))

	for _, target := range []string{"example.com:443", "documents.azure.com:443", "acct.documents.azure.com.evil.com:443", "10.0.0.1:443"} {
		code, body := connectRaw(t, s, target)
		host := hostport.StripPort(target)
		if code != http.StatusForbidden || !strings.Contains(body, host+" is not an allowed upstream") {
			t.Errorf("CONNECT %s: %d %q, want 403 naming %s", target, code, body, host)
		}
	}

	c := proxiedClient(t, s)
	if _, err := c.Get("https://example.com/"); err == nil {
		t.Error("HTTPS through a refused CONNECT succeeded")
	}

	r := httpcheck.Do(t, c, "GET", "http://example.com/", "")
	if r.Code != http.StatusForbidden || !strings.Contains(r.Body, "example.com is not an allowed upstream") {
		t.Errorf("plain HTTP: %d %q", r.Code, r.Body)
	}
	if h := r.Header.Get(engine.ErrorHeader); !strings.Contains(h, "example.com") {
		t.Errorf("%s = %q", engine.ErrorHeader, h)
	}

	// A request to azvcr itself would loop.
	for _, u := range []string{"http://" + s.Addr() + "/x", "https://" + s.Addr() + "/x"} {
		r = httpcheck.Do(t, c, "GET", u, "")
		if r.Code != http.StatusLoopDetected || !strings.Contains(r.Body, "to itself") {
			t.Errorf("%s: %d %q, want 508", u, r.Code, r.Body)
		}
	}

	if rt.n.Load() != 0 {
		t.Errorf("upstream transport used %d times for refused requests", rt.n.Load())
	}
	if sum := s.Summary(); sum.Forwarded != 0 || sum.Recorded != 0 {
		t.Errorf("summary = %+v", sum)
	}
	s.Close()
	if n := len(loadCassette(t, path).Interactions); n != 0 {
		t.Errorf("cassette holds %d interactions, want none", n)
	}
}

func TestRecordUntrustedUpstream(t *testing.T) {
	up := newUpstream(t)
	path := filepath.Join(t.TempDir(), "untrusted.yaml")
	s := startServer(t, engine.Record, WithCassette(path)) // no WithUpstreamCA
	r := httpcheck.Do(t, proxiedClient(t, s), "GET", up.URL+"/dbs", "")
	if r.Code != http.StatusBadGateway || !strings.Contains(r.Body, "certificate") || r.Header.Get(engine.ErrorHeader) == "" {
		t.Errorf("untrusted upstream: %d %q %v", r.Code, r.Body, r.Header)
	}
	if up.hits.Load() != 0 {
		t.Errorf("upstream answered %d requests over an unverified connection", up.hits.Load())
	}
	s.Close()
	if n := len(loadCassette(t, path).Interactions); n != 0 {
		t.Errorf("cassette holds %d interactions, want none", n)
	}
}

func TestRecordConcurrent(t *testing.T) {
	up := newUpstream(t)
	path := filepath.Join(t.TempDir(), "concurrent.yaml")
	s := startServer(t, engine.Record, WithCassette(path), WithUpstreamCA(up.caFile))
	c := proxiedClient(t, s)
	const n = 16
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(fmt.Sprintf("%s/p/%d", up.URL, i))
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := fmt.Sprintf("upstream GET /p/%d", i); string(body) != want {
				t.Errorf("got %q, want %q", body, want)
			}
		}()
	}
	wg.Wait()
	s.Close()
	cas := loadCassette(t, path)
	if len(cas.Interactions) != n {
		t.Fatalf("cassette holds %d interactions, want %d", len(cas.Interactions), n)
	}
	seenID, seenURL := map[int]bool{}, map[string]bool{}
	for _, it := range cas.Interactions {
		seenID[it.ID] = true
		seenURL[it.Request.URL] = true
		if it.Response.Body != "upstream GET "+strings.TrimPrefix(it.Request.URL, up.URL) {
			t.Errorf("#%d: %s answered %q", it.ID, it.Request.URL, it.Response.Body)
		}
	}
	if len(seenID) != n || len(seenURL) != n {
		t.Errorf("%d distinct ids and %d distinct urls, want %d", len(seenID), len(seenURL), n)
	}
}
