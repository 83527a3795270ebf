package forwardproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azvcr/azvcr/cassette"

	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/internal/httpcheck"
)

func TestReplay(t *testing.T) {
	up := newUpstream(t)
	path := recordThree(t, up)
	hits := up.hits.Load()
	up.Close() // replay must not need it

	s := startServer(t, engine.Replay, WithCassette(path))
	c := proxiedClient(t, s)

	// Volatile headers differ, the JSON body is spelled differently: still the same requests.
	r := httpcheck.Do(t, c, "GET", up.URL+"/dbs", "", "Authorization", "type%3Dmaster%26sig%3Dother", "X-Ms-Date", "Thu, 02 Jan 2025 11:00:00 GMT")
	httpcheck.Expect(t, "replay GET", r, 200, dbsBody)
	if r.Header.Get("X-Ms-Request-Charge") != "1.25" || r.Header.Get("Content-Length") != fmt.Sprint(len(dbsBody)) {
		t.Errorf("replay GET headers = %v", r.Header)
	}
	r = httpcheck.Do(t, c, "POST", up.URL+docsPath, "{ \"n\": 1.0, \"pk\": \"p1\",\n \"id\": \"item1\" }",
		"Authorization", "other", "Content-Type", "application/json", "X-Ms-Documentdb-Partitionkey", `["p1"]`)
	httpcheck.Expect(t, "replay POST", r, 201, createdBody)
	r = httpcheck.Do(t, c, "GET", up.URL+"/gz", "")
	httpcheck.Expect(t, "replay gzip GET", r, 200, gzBody)
	if r.Resp.Uncompressed || r.Header.Get("Content-Encoding") != "" {
		t.Errorf("replay gzip GET: encoding leaked: %v", r.Header)
	}

	// An unknown request.
	r = httpcheck.Do(t, c, "GET", up.URL+"/dbs/db1/colls/c1/docs/item2", "", "X-Ms-Documentdb-Partitionkey", `["p1"]`)
	m := decodeMiss(t, r)
	if m.Code != "AzvcrNoRecording" || !strings.HasPrefix(m.Message, "azvcr: GET ") || m.Reason != "no recorded interaction matches this request" {
		t.Errorf("miss = %+v", m)
	}
	if m.Closest == nil || len(m.Differences) == 0 {
		t.Errorf("miss without closest or differences: %s", r.Body)
	}
	if m.URL != up.URL+"/dbs/db1/colls/c1/docs/item2" || m.Method != "GET" {
		t.Errorf("miss names %s %s", m.Method, m.URL)
	}
	if h := r.Header.Get(engine.MissHeader); !strings.Contains(h, "/dbs/db1/colls/c1/docs/item2") || !strings.Contains(h, "no recorded interaction") {
		t.Errorf("%s = %q", engine.MissHeader, h)
	}
	if r.Header.Get("X-Ms-Error-Code") != "AzvcrNoRecording" {
		t.Errorf("X-Ms-Error-Code = %q", r.Header.Get("X-Ms-Error-Code"))
	}

	// A create with another document names the JSON path that differs.
	r = httpcheck.Do(t, c, "POST", up.URL+docsPath, `{"id":"item2","pk":"p1","n":1}`, "X-Ms-Documentdb-Partitionkey", `["p1"]`)
	m = decodeMiss(t, r)
	if m.Closest == nil || m.Closest.ID != 1 {
		t.Errorf("closest = %+v, want #1", m.Closest)
	}
	if !slices.Contains(m.Differences, `body $.id: request "item2", recorded "item1"`) {
		t.Errorf("differences = %q", m.Differences)
	}

	// The GET was recorded once: asking again is a miss that says so.
	r = httpcheck.Do(t, c, "GET", up.URL+"/dbs", "")
	m = decodeMissFields(t, r, "code", "message", "reason", "closest")
	if len(m.Differences) != 0 {
		t.Errorf("an exhausted request has no differences, got %q", m.Differences)
	}
	if m.Reason != "all 1 recorded answers for this request were already used" || m.Closest == nil || m.Closest.ID != 0 {
		t.Errorf("repeat miss = %+v", m)
	}

	sum := s.Summary()
	if sum.Mode != engine.Replay || sum.Replayed != 3 || sum.Unused != 0 || sum.Misses != 3 || sum.Recorded != 0 || sum.Forwarded != 0 {
		t.Errorf("summary = %+v", sum)
	}
	if got := sum.String(); got != "3 replayed, 0 unused, 3 misses" {
		t.Errorf("summary string = %q", got)
	}
	if got := up.hits.Load(); got != hits {
		t.Errorf("upstream saw %d more requests during replay", got-hits)
	}

	// The status endpoint answers requests made to azvcr itself.
	direct := httpcheck.Do(t, &http.Client{Timeout: 5 * time.Second}, "GET", s.URL()+"/azvcr/status", "")
	var status engine.Summary
	if err := json.Unmarshal([]byte(direct.Body), &status); err != nil || status != sum {
		t.Errorf("/azvcr/status = %q (%v), want %+v", direct.Body, err, sum)
	}
	other := httpcheck.Do(t, &http.Client{Timeout: 5 * time.Second}, "GET", s.URL()+"/", "")
	if other.Code != http.StatusBadRequest || !strings.Contains(other.Body, "azvcr is a proxy") || !strings.Contains(other.Body, s.CA().CertPath) {
		t.Errorf("direct request: %d %q", other.Code, other.Body)
	}

	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Get(up.URL + "/dbs"); err == nil {
		t.Error("a closed server still answered")
	}
}

func TestReplayUnused(t *testing.T) {
	up := newUpstream(t)
	path := recordThree(t, up)
	up.Close()

	s := startServer(t, engine.Replay, WithCassette(path))
	c := proxiedClient(t, s)
	httpcheck.Expect(t, "replay POST", httpcheck.Do(t, c, "POST", up.URL+docsPath, docJSON, "X-Ms-Documentdb-Partitionkey", `["p1"]`), 201, createdBody)
	sum := s.Summary()
	if sum.Replayed != 1 || sum.Unused != 2 || sum.Misses != 0 {
		t.Errorf("summary = %+v", sum)
	}
	var ids []int
	for _, it := range s.Unused() {
		ids = append(ids, it.ID)
	}
	if !slices.Equal(ids, []int{0, 2}) {
		t.Errorf("unused ids = %v, want [0 2]", ids)
	}
}

// writeCassette saves interactions answering GET /items/<i> on a host nothing listens on.

func TestReplayKeepAliveAndNoDial(t *testing.T) {
	path, base := writeCassette(t, 20)
	rt := &countingTransport{}
	s := startServer(t, engine.Replay, WithCassette(path), WithUpstreamTransport(rt))
	c := proxiedClient(t, s)

	var newConns, reused atomic.Int64
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if info.Reused {
			reused.Add(1)
		} else {
			newConns.Add(1)
		}
	}}
	requests := 0
	for i := 0; i < 20; i++ {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/items/%d", base, i), nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		requests++
		if resp.StatusCode != 200 || string(body) != fmt.Sprintf(`{"id":"%d"}`, i) {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
		if resp.Uncompressed || resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("request %d: recorded Content-Encoding replayed for a decoded body", i)
		}
		if i%5 == 4 { // misses must not break the connection either
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/missing/%d", base, i), nil)
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("miss %d: %v", i, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			requests++
			if resp.StatusCode != engine.MissStatus {
				t.Fatalf("miss %d: status %d", i, resp.StatusCode)
			}
		}
	}
	if newConns.Load() != 1 || reused.Load() != int64(requests-1) {
		t.Errorf("%d requests used %d new connections (%d reused), want 1", requests, newConns.Load(), reused.Load())
	}
	s.conns.mu.Lock()
	accepted := len(s.conns.conns)
	s.conns.mu.Unlock()
	if accepted != 1 {
		t.Errorf("proxy holds %d client connections, want 1", accepted)
	}
	if rt.n.Load() != 0 {
		t.Errorf("replay used the upstream transport %d times", rt.n.Load())
	}
	if sum := s.Summary(); sum.Replayed != 20 || sum.Misses != 4 || sum.Unused != 0 || sum.Forwarded != 0 {
		t.Errorf("summary = %+v", sum)
	}
}

// Replay answers a host off the allow-list as recording did, 403 with the explanation, and does
// not count it as a miss; an allowed host with no recording is a miss; a host off the list that
// the recording holds (recorded with --allow-host) is replayed. Nothing is contacted.
func TestReplayHostsAsRecordingDid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts.yaml")
	c := &cassette.Cassette{Version: cassette.Version, Interactions: []*cassette.Interaction{{
		Request:  cassette.Request{Method: "GET", URL: "https://recorded.example/x"},
		Response: cassette.Response{Code: 200, Status: "200 OK", Body: "kept", Headers: http.Header{"Content-Type": {"text/plain"}}},
	}}}
	if err := cassette.Save(path, c); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, engine.Replay, WithCassette(path))
	code, body := connectRaw(t, s, "example.com:443")
	if code != http.StatusForbidden || !strings.Contains(body, "example.com is not an allowed upstream") {
		t.Errorf("CONNECT example.com: %d %q, want 403 with the reason", code, body)
	}
	cl := proxiedClient(t, s)
	plain := httpcheck.Do(t, cl, "GET", "http://example.com/plain", "")
	if plain.Code != http.StatusForbidden || !strings.Contains(plain.Body, "not an allowed upstream") || plain.Header.Get(engine.ErrorHeader) == "" {
		t.Errorf("plain http to example.com: %d %q", plain.Code, plain.Body)
	}
	if m := decodeMiss(t, httpcheck.Do(t, cl, "GET", "https://acct.documents.azure.com/dbs", "")); m.URL != "https://acct.documents.azure.com/dbs" {
		t.Errorf("allowed host: miss names %q", m.URL)
	}
	if r := httpcheck.Do(t, cl, "GET", "https://recorded.example/x", ""); r.Code != http.StatusOK || r.Body != "kept" {
		t.Errorf("recorded host off the allow-list: %d %q", r.Code, r.Body)
	}
	if sum := s.Summary(); sum.Misses != 1 || sum.Replayed != 1 {
		t.Errorf("summary %+v, want 1 miss and 1 replayed", sum)
	}
}

// connectRaw sends a CONNECT by hand and returns the proxy's answer.
