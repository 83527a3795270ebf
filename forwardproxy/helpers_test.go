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
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/internal/cassettetest"
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

func testCA(t testing.TB) *certs.CA {
	t.Helper()
	ca, _, err := certs.InitCA(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
