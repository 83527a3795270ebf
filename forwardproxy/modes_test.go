package forwardproxy

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/internal/httpcheck"
	"github.com/azvcr/azvcr/redact"
)

func TestRecord(t *testing.T) {
	up := newUpstream(t)
	path := recordThree(t, up)

	// The upstream saw the real credentials; only the file is redacted.
	up.mu.Lock()
	auth := slices.Clone(up.auth)
	up.mu.Unlock()
	if len(auth) != 3 || slices.ContainsFunc(auth, func(a string) bool { return a != secretAuth }) {
		t.Errorf("upstream received Authorization %q, want the real value 3 times", auth)
	}

	c := loadCassette(t, path)
	if len(c.Interactions) != 3 {
		t.Fatalf("cassette holds %d interactions, want 3", len(c.Interactions))
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "top-secret") {
		t.Error("the cassette file contains the secret")
	}
	want := []struct {
		method, path string
		code         int
		reqBody      string
		respBody     string
	}{
		{"GET", "/dbs", 200, "", dbsBody},
		{"POST", docsPath, 201, docJSON, createdBody},
		{"GET", "/gz", 200, "", gzBody},
	}
	for i, w := range want {
		it := c.Interactions[i]
		if it.ID != i {
			t.Errorf("#%d: id %d", i, it.ID)
		}
		if it.Request.Method != w.method || it.Request.URL != up.URL+w.path {
			t.Errorf("#%d: request %s %s, want %s %s", i, it.Request.Method, it.Request.URL, w.method, up.URL+w.path)
		}
		if it.Request.Body != w.reqBody {
			t.Errorf("#%d: request body %q, want %q", i, it.Request.Body, w.reqBody)
		}
		if got := it.Request.Headers.Values("Authorization"); len(got) != 1 || got[0] != redactedMasterAuth {
			t.Errorf("#%d: Authorization %q, want %s", i, got, redactedMasterAuth)
		}
		if it.Response.Code != w.code || it.Response.Body != w.respBody {
			t.Errorf("#%d: response %d %q, want %d %q", i, it.Response.Code, it.Response.Body, w.code, w.respBody)
		}
		if it.Response.Headers.Get("Content-Encoding") != "" {
			t.Errorf("#%d: stored Content-Encoding %q for a decoded body", i, it.Response.Headers.Get("Content-Encoding"))
		}
		if got := it.Response.Headers.Get("Date"); got != redact.FixedDate {
			t.Errorf("#%d: response Date %q, want the fixed date", i, got)
		}
		if got := it.Response.Headers.Get("Content-Length"); got != fmt.Sprint(len(w.respBody)) {
			t.Errorf("#%d: response Content-Length %q, want %d", i, got, len(w.respBody))
		}
	}
	if got := c.Interactions[0].Request.Headers.Get("X-Ms-Date"); got != redact.FixedDate {
		t.Errorf("request X-Ms-Date %q, want the fixed date", got)
	}
	if got := c.Interactions[1].Request.Headers.Get("X-Ms-Documentdb-Partitionkey"); got != `["p1"]` {
		t.Errorf("partition key header %q not recorded", got)
	}
	if got := c.Interactions[0].Response.Headers.Get("X-Ms-Request-Charge"); got != "1.25" {
		t.Errorf("response header X-Ms-Request-Charge %q not recorded", got)
	}
}

func TestAuto(t *testing.T) {
	up := newUpstream(t)
	path := filepath.Join(t.TempDir(), "auto.yaml")

	rec := startServer(t, engine.Record, WithCassette(path), WithUpstreamCA(up.caFile))
	httpcheck.Expect(t, "record", httpcheck.Do(t, proxiedClient(t, rec), "GET", up.URL+"/count", "", "Authorization", secretAuth), 200, "hit 1")
	rec.Close()

	s := startServer(t, engine.Auto, WithCassette(path), WithUpstreamCA(up.caFile))
	c := proxiedClient(t, s)
	httpcheck.Expect(t, "auto replay", httpcheck.Do(t, c, "GET", up.URL+"/count", "", "Authorization", secretAuth), 200, "hit 1")
	if got := up.hits.Load(); got != 1 {
		t.Fatalf("the recorded request reached the upstream (hits %d)", got)
	}
	httpcheck.Expect(t, "auto forward", httpcheck.Do(t, c, "GET", up.URL+"/new", "", "Authorization", secretAuth), 200, "upstream GET /new")
	if got := up.hits.Load(); got != 2 {
		t.Fatalf("upstream hits %d, want 2", got)
	}
	sum := s.Summary()
	if sum.Mode != engine.Auto || sum.Replayed != 1 || sum.Recorded != 1 || sum.Forwarded != 1 || sum.Unused != 0 {
		t.Errorf("summary = %+v", sum)
	}
	if got := sum.String(); got != "1 replayed, 1 recorded, 0 unused" {
		t.Errorf("summary string = %q", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cas := loadCassette(t, path)
	if len(cas.Interactions) != 2 {
		t.Fatalf("cassette holds %d interactions, want 2", len(cas.Interactions))
	}
	for i, want := range []struct{ url, body string }{{up.URL + "/count", "hit 1"}, {up.URL + "/new", "upstream GET /new"}} {
		it := cas.Interactions[i]
		if it.ID != i || it.Request.URL != want.url || it.Response.Body != want.body {
			t.Errorf("#%d: id %d %s -> %q, want id %d %s -> %q", i, it.ID, it.Request.URL, it.Response.Body, i, want.url, want.body)
		}
		if it.Request.Headers.Get("Authorization") != redactedMasterAuth {
			t.Errorf("#%d: Authorization %q", i, it.Request.Headers.Get("Authorization"))
		}
	}

	// Both now replay with the upstream gone.
	up.Close()
	rp := startServer(t, engine.Replay, WithCassette(path))
	rc := proxiedClient(t, rp)
	httpcheck.Expect(t, "replay 1", httpcheck.Do(t, rc, "GET", up.URL+"/count", ""), 200, "hit 1")
	httpcheck.Expect(t, "replay 2", httpcheck.Do(t, rc, "GET", up.URL+"/new", ""), 200, "upstream GET /new")
}

func TestPassthrough(t *testing.T) {
	up := newUpstream(t)
	s := startServer(t, engine.Passthrough, WithUpstreamCA(up.caFile))
	c := proxiedClient(t, s)
	httpcheck.Expect(t, "passthrough", httpcheck.Do(t, c, "GET", up.URL+"/dbs", ""), 200, dbsBody)
	httpcheck.Expect(t, "passthrough again", httpcheck.Do(t, c, "GET", up.URL+"/dbs", ""), 200, dbsBody)
	sum := s.Summary()
	if sum.Forwarded != 2 || sum.Recorded != 0 || sum.Replayed != 0 || sum.String() != "2 forwarded" {
		t.Errorf("summary = %+v", sum)
	}
	if s.Unused() != nil {
		t.Error("passthrough reports unused interactions")
	}
}

func TestNewErrors(t *testing.T) {
	ca := testCA(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 7\ninteractions: []\n"), 0o644)
	badURL := filepath.Join(dir, "badurl.yaml")
	os.WriteFile(badURL, []byte("version: 2\ninteractions:\n- id: 0\n  request: {method: GET, url: 'https://h/%zz'}\n  response: {code: 200}\n"), 0o644)
	tests := []struct {
		name string
		mode engine.Mode
		opts []Option
		want string
	}{
		{"record without cassette", engine.Record, nil, "record mode needs a cassette file"},
		{"replay without cassette", engine.Replay, nil, "replay mode needs a cassette file"},
		{"replay of a missing file", engine.Replay, []Option{WithCassette(filepath.Join(dir, "missing.yaml"))}, "missing.yaml"},
		{"replay of an unsupported version", engine.Replay, []Option{WithCassette(bad)}, "unsupported cassette version 7"},
		{"replay of an unusable url", engine.Replay, []Option{WithCassette(badURL)}, "badurl.yaml"},
		{"missing upstream CA file", engine.Record, []Option{WithCassette(filepath.Join(dir, "r.yaml")), WithUpstreamCA(filepath.Join(dir, "nope.pem"))}, "upstream CA"},
		{"upstream CA without PEM", engine.Record, []Option{WithCassette(filepath.Join(dir, "r.yaml")), WithUpstreamCA(bad)}, "no PEM certificate found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.mode, append([]Option{WithCA(ca), WithLogger(httpcheck.DiscardLogger())}, tc.opts...)...)
			if err == nil {
				s.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to mention %q", err, tc.want)
			}
		})
	}

	s, err := New(engine.Passthrough, WithCA(ca), WithLogger(httpcheck.DiscardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(); err == nil || !strings.Contains(err.Error(), "Serve before Listen") {
		t.Errorf("Serve before Listen: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close of a server never started: %v", err)
	}
}

func TestUpstreamInsecureAndCustomRedactor(t *testing.T) {
	up := newUpstream(t)
	path := filepath.Join(t.TempDir(), "custom.yaml")
	rules := redact.Redactor{redact.HeaderRule{RuleName: "charge", Headers: []string{"X-Ms-Request-Charge"}, Value: "0"}}
	s := startServer(t, engine.Record, WithCassette(path), WithUpstreamInsecure(), WithRedactor(rules))
	r := httpcheck.Do(t, proxiedClient(t, s), "GET", up.URL+"/dbs", "", "Authorization", secretAuth)
	httpcheck.Expect(t, "insecure upstream", r, 200, dbsBody)
	if r.Header.Get("X-Ms-Request-Charge") != "1.25" {
		t.Errorf("the client got a redacted header: %v", r.Header)
	}
	s.Close()
	it := loadCassette(t, path).Interactions[0]
	// The custom rules replace the defaults: Authorization is kept, the charge is rewritten.
	if got := it.Request.Headers.Get("Authorization"); got != secretAuth {
		t.Errorf("Authorization = %q, want it kept by the custom redactor", got)
	}
	if got := it.Response.Headers.Get("X-Ms-Request-Charge"); got != "0" {
		t.Errorf("X-Ms-Request-Charge = %q, want 0", got)
	}
}
