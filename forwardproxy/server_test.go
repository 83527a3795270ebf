package forwardproxy

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/internal/hostport"
	"github.com/azvcr/azvcr/internal/httpcheck"
	"github.com/azvcr/azvcr/redact"
)

// redactedMasterAuth is how a Cosmos master-key Authorization header reaches the cassette.
var redactedMasterAuth = url.QueryEscape("type=master&ver=1.0&sig=" + redact.Redacted)

const (
	secretAuth  = "type%3Dmaster%26ver%3D1.0%26sig%3Dtop-secret"
	dbsBody     = `{"_rid":"","Databases":[{"id":"db1"}],"_count":1}`
	gzBody      = `{"Documents":[{"id":"zipped","text":"this body travelled gzip-encoded"}],"_count":1}`
	docJSON     = `{"id":"item1","pk":"p1","n":1}`
	docsPath    = "/dbs/db1/colls/c1/docs"
	createdBody = `{"created":{"id":"item1","pk":"p1","n":1},"_etag":"\"0001\""}`
)

// upstream is a real TLS server standing in for Cosmos DB.
type testUpstream struct {
	*httptest.Server
	caFile string
	hits   atomic.Int64
	mu     sync.Mutex
	auth   []string // Authorization headers as received
}

func newUpstream(t *testing.T) *testUpstream {
	t.Helper()
	u := &testUpstream{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dbs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Ms-Request-Charge", "1.25")
		io.WriteString(w, dbsBody)
	})
	mux.HandleFunc("POST "+docsPath, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if string(body) != docJSON || r.Header.Get("X-Ms-Documentdb-Partitionkey") != `["p1"]` {
			http.Error(w, "unexpected create: "+string(body), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, createdBody)
	})
	mux.HandleFunc("GET /gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip") // sent whatever the client accepts
		w.Write(cassettetest.Gzip(t, gzBody))
	})
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hit %d", u.hits.Load())
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream %s %s", r.Method, r.URL.Path)
	})
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		u.mu.Lock()
		u.auth = append(u.auth, r.Header.Get("Authorization"))
		u.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	u.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are part of some tests
	u.StartTLS()
	t.Cleanup(u.Close)
	u.caFile = filepath.Join(t.TempDir(), "upstream-ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: u.Certificate().Raw})
	if err := os.WriteFile(u.caFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return u
}

func startServer(t *testing.T, mode engine.Mode, opts ...Option) *Server {
	t.Helper()
	s, err := New(mode, append([]Option{WithCA(testCA(t)), WithLogger(httpcheck.DiscardLogger())}, opts...)...)
	if err != nil {
		t.Fatalf("New(%s): %v", mode, err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// proxiedClient sends everything through s and trusts only s's CA.
func proxiedClient(t *testing.T, s *Server) *http.Client {
	t.Helper()
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Proxy: http.ProxyURL(u), TLSClientConfig: &tls.Config{RootCAs: s.CA().Pool()}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func loadCassette(t *testing.T, path string) *cassette.Cassette {
	t.Helper()
	c, err := cassette.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recordThree records a GET, a JSON POST and a gzip-encoded GET against up and returns the cassette.
func recordThree(t *testing.T, up *testUpstream) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "three.yaml")
	s := startServer(t, engine.Record, WithCassette(path), WithUpstreamCA(up.caFile))
	if s.Mode() != engine.Record {
		t.Fatalf("Mode() = %s", s.Mode())
	}
	c := proxiedClient(t, s)

	r := httpcheck.Do(t, c, "GET", up.URL+"/dbs", "", "Authorization", secretAuth, "X-Ms-Date", "Wed, 01 Jan 2025 10:00:00 GMT")
	httpcheck.Expect(t, "record GET", r, 200, dbsBody)
	if r.Header.Get("X-Ms-Request-Charge") != "1.25" {
		t.Errorf("record GET: upstream header lost: %v", r.Header)
	}
	r = httpcheck.Do(t, c, "POST", up.URL+docsPath, docJSON,
		"Authorization", secretAuth, "Content-Type", "application/json", "X-Ms-Documentdb-Partitionkey", `["p1"]`)
	httpcheck.Expect(t, "record POST", r, 201, createdBody)
	r = httpcheck.Do(t, c, "GET", up.URL+"/gz", "", "Authorization", secretAuth)
	httpcheck.Expect(t, "record gzip GET", r, 200, gzBody)
	if r.Resp.Uncompressed || r.Header.Get("Content-Encoding") != "" {
		t.Errorf("record gzip GET: the proxy passed the encoding on (Uncompressed=%v, Content-Encoding=%q)", r.Resp.Uncompressed, r.Header.Get("Content-Encoding"))
	}

	if sum := s.Summary(); sum.Recorded != 3 || sum.Forwarded != 3 || sum.Mode != engine.Record || sum.String() != "3 recorded" {
		t.Errorf("summary = %+v (%s)", sum, sum)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return path
}

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

type missJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Method  string `json:"method"`
	URL     string `json:"url"`
	Reason  string `json:"reason"`
	Closest *struct {
		ID     int    `json:"id"`
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"closest"`
	Differences []string `json:"differences"`
}

// decodeMiss checks a 490 answer; differences is absent only when the request itself was
// recorded and its answers are used up.
func decodeMiss(t *testing.T, r httpcheck.Result) missJSON {
	t.Helper()
	return decodeMissFields(t, r, "code", "message", "reason", "closest", "differences")
}

func decodeMissFields(t *testing.T, r httpcheck.Result, required ...string) missJSON {
	t.Helper()
	if r.Code != engine.MissStatus {
		t.Fatalf("status %d (%q), want %d", r.Code, r.Body, engine.MissStatus)
	}
	if r.Header.Get(engine.MissHeader) == "" {
		t.Errorf("no %s header", engine.MissHeader)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.Body), &fields); err != nil {
		t.Fatalf("miss body is not JSON: %v\n%s", err, r.Body)
	}
	for _, f := range required {
		if _, ok := fields[f]; !ok {
			t.Errorf("miss body has no %q field: %s", f, r.Body)
		}
	}
	var m missJSON
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

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
func writeCassette(t *testing.T, n int) (path, base string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base = "https://" + ln.Addr().String()
	ln.Close() // the recorded host is now a closed port
	c := &cassette.Cassette{Version: cassette.Version}
	for i := 0; i < n; i++ {
		c.Interactions = append(c.Interactions, &cassette.Interaction{
			ID: i,
			Request: cassette.Request{
				Method:  "GET",
				URL:     fmt.Sprintf("%s/items/%d", base, i),
				Headers: http.Header{"Authorization": {redact.Redacted}},
			},
			Response: cassette.Response{
				Code:    200,
				Status:  "200 OK",
				Body:    fmt.Sprintf(`{"id":"%d"}`, i),
				Headers: http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}},
			},
		})
	}
	path = filepath.Join(t.TempDir(), "items.yaml")
	if err := cassette.Save(path, c); err != nil {
		t.Fatal(err)
	}
	return path, base
}

type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, fmt.Errorf("dial refused by test")
}

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

// In replay every host is intercepted, allowed or not: nothing is contacted.
func TestReplayAnyHost(t *testing.T) {
	path, _ := writeCassette(t, 1)
	s := startServer(t, engine.Replay, WithCassette(path))
	c := proxiedClient(t, s)
	for _, u := range []string{"https://example.com/x", "https://acct.documents.azure.com/dbs", "http://example.com/plain"} {
		r := httpcheck.Do(t, c, "GET", u, "")
		m := decodeMiss(t, r)
		if m.URL != u {
			t.Errorf("%s: miss names %q", u, m.URL)
		}
	}
}

// connectRaw sends a CONNECT by hand and returns the proxy's answer.
func connectRaw(t *testing.T, s *Server, target string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "CONNECT"})
	if err != nil {
		t.Fatalf("CONNECT %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

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

func testCA(t testing.TB) *certs.CA {
	t.Helper()
	ca, _, err := certs.InitCA(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
