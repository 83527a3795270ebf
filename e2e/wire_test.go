package e2e

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/testcerts"
	"github.com/azvcr/azvcr/forwardproxy"
	"github.com/azvcr/azvcr/internal/httpcheck"
	"github.com/azvcr/azvcr/testproxy"
	"github.com/azvcr/azvcr/testproxyjson"
)

const wireHost = "acct.documents.azure.com"

// The request a client writes by hand: names in lower, mixed and canonical case, Host not first.
var wireRequestNames = []string{"x-ms-documentdb-isquery", "host", "Content-Type", "x-ms-version", "x-ms-max-item-count",
	"X-MS-DOCUMENTDB-QUERY-ENABLECROSSPARTITION", "authorization", "content-length"}

const wireQuery = `{"query":"SELECT * FROM c"}`

func wireRequest(extra ...string) string {
	vals := map[string]string{"x-ms-documentdb-isquery": "True", "host": wireHost, "Content-Type": "application/query+json",
		"x-ms-version": "2018-12-31", "x-ms-max-item-count": "3", "X-MS-DOCUMENTDB-QUERY-ENABLECROSSPARTITION": "True",
		"authorization": "type%3Dmaster%26ver%3D1.0%26sig%3DnotARealSignature", "content-length": strconv.Itoa(len(wireQuery))}
	var b strings.Builder
	b.WriteString("POST /dbs/db1/colls/c1/docs HTTP/1.1\r\n")
	for _, n := range wireRequestNames {
		fmt.Fprintf(&b, "%s: %s\r\n", n, vals[n])
	}
	for i := 0; i+1 < len(extra); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", extra[i], extra[i+1])
	}
	return b.String() + "\r\n" + wireQuery
}

// The answer the upstream writes by hand, in the order and spelling Cosmos DB's gateway uses, with
// a reason phrase of its own.
var wireResponseNames = []string{"x-ms-continuation", "Content-Type", "x-ms-session-token", "etag", "X-MS-Request-Charge", "x-ms-activity-id", "content-length"}

const (
	wireStatus = "200 Ok Then"
	wireBody   = `{"Documents":[{"n":1}],"_count":1}`
)

var wireResponse = "HTTP/1.1 " + wireStatus + "\r\n" +
	"x-ms-continuation: {\"token\":\"+RID:~1#RT:1\",\"range\":{\"min\":\"\",\"max\":\"FF\"}}\r\n" +
	"Content-Type: application/json\r\n" +
	"x-ms-session-token: 0:-1#5\r\n" +
	"etag: \"00000-1\"\r\n" +
	"X-MS-Request-Charge: 2.5\r\n" +
	"x-ms-activity-id: 5e1a2b3c-0000-0000-0000-000000000001\r\n" +
	"content-length: " + strconv.Itoa(len(wireBody)) + "\r\n\r\n" + wireBody

// rawUpstream is a TLS server that reads request heads as bytes and writes wireResponse as bytes.
type rawUpstream struct {
	ln     net.Listener
	caFile string
	mu     sync.Mutex
	heads  []string
}

func startRawUpstream(t *testing.T) *rawUpstream {
	t.Helper()
	pair, err := testcerts.New("raw upstream CA", wireHost)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "raw-ca.pem")
	if err := os.WriteFile(caFile, pair.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair.Leaf}})
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{ln: ln, caFile: caFile}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go u.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return u
}

func (u *rawUpstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		head, names, err := readRawHead(br)
		if err != nil {
			return
		}
		n := 0
		for _, l := range strings.Split(head, "\r\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "content-length") {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		io.CopyN(io.Discard, br, int64(n))
		u.mu.Lock()
		u.heads = append(u.heads, strings.Join(names, ","))
		u.mu.Unlock()
		io.WriteString(c, wireResponse)
	}
}

func (u *rawUpstream) lastNames() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.heads) == 0 {
		return nil
	}
	return strings.Split(u.heads[len(u.heads)-1], ",")
}

// readRawHead reads a message head and returns it with the names of its header lines.
func readRawHead(br *bufio.Reader) (string, []string, error) {
	var b strings.Builder
	var names []string
	for first := true; ; first = false {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", nil, err
		}
		b.WriteString(line)
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return b.String(), names, nil
		}
		if k, _, ok := strings.Cut(line, ":"); ok && !first {
			names = append(names, k)
		}
	}
}

// rawAnswer is what a raw client read: the status line without the protocol, the names, the body.
type rawAnswer struct {
	status string
	names  []string
	header http.Header
	body   string
}

func readRawAnswer(t *testing.T, br *bufio.Reader) rawAnswer {
	t.Helper()
	head, names, err := readRawHead(br)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	status, _, _ := strings.Cut(head, "\r\n")
	a := rawAnswer{status: strings.TrimPrefix(status, "HTTP/1.1 "), names: names, header: http.Header{}}
	for _, l := range strings.Split(head, "\r\n")[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok {
			a.header.Add(k, strings.TrimSpace(v))
		}
	}
	n, _ := strconv.Atoi(a.header.Get("Content-Length"))
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	a.body = string(body)
	return a
}

// viaConnect sends request through the proxy at proxyAddr by hand: CONNECT, TLS trusting pool,
// the request bytes, twice on one connection (the second answer must be read from the same
// connection).
func viaConnect(t *testing.T, proxyAddr string, pool *x509.CertPool, request string) []rawAnswer {
	t.Helper()
	c, err := net.Dial("tcp", proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n", wireHost, wireHost)
	br := bufio.NewReader(c)
	head, _, err := readRawHead(br)
	if err != nil || !strings.HasPrefix(head, "HTTP/1.1 200") {
		t.Fatalf("CONNECT: %q %v", head, err)
	}
	tc := tls.Client(c, &tls.Config{ServerName: wireHost, RootCAs: pool})
	tbr := bufio.NewReader(tc)
	var out []rawAnswer
	for i := 0; i < 2; i++ {
		if _, err := io.WriteString(tc, request); err != nil {
			t.Fatal(err)
		}
		out = append(out, readRawAnswer(t, tbr))
	}
	return out
}

// viaTestProxy sends request by hand to the test-proxy protocol at addr for session id.
func viaTestProxy(t *testing.T, addr, id, mode string) rawAnswer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	req := strings.Replace(wireRequest("x-recording-id", id, "x-recording-mode", mode, "x-recording-upstream-base-uri", "https://"+wireHost),
		"host: "+wireHost, "host: "+addr, 1)
	io.WriteString(c, req)
	return readRawAnswer(t, bufio.NewReader(c))
}

func withoutName(names []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return strings.EqualFold(n, drop) })
}

// sortedIgnoringCase is the order test-proxy writes headers in.
func sortedIgnoringCase(names []string) []string {
	out := slices.Clone(names)
	slices.SortStableFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

// Header names keep their spelling and order, and the reason phrase its text, from a raw client
// to a raw upstream and back: through the forward proxy in passthrough, record and replay (from
// the YAML it wrote, and from that converted to test-proxy JSON), and through the test-proxy
// protocol in record and playback.
func TestWireNamesAndOrderKept(t *testing.T) {
	up := startRawUpstream(t)
	ca := newCA(t)
	pool := ca.Pool()
	dir := t.TempDir()
	yamlPath := filepath.Join(dir, "wire.yaml")
	resolve := forwardproxy.WithResolve(wireHost, up.ln.Addr().String())

	checkAnswer := func(what string, got rawAnswer, status string, names []string) {
		t.Helper()
		if got.status != status || !reflect.DeepEqual(got.names, names) || got.body != wireBody {
			t.Errorf("%s: client read %q %q body %q\nwant %q %q body %q", what, got.status, got.names, got.body, status, names, wireBody)
		}
		if c := got.header.Get("X-Ms-Continuation"); !strings.Contains(c, "+RID:~1#RT:1") {
			t.Errorf("%s: continuation %q", what, c)
		}
	}
	checkUpstream := func(what string, want []string) {
		t.Helper()
		if got := up.lastNames(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: upstream read names %q\nwant %q", what, got, want)
		}
	}

	pass := startProxy(t, engine.Passthrough, ca, resolve, forwardproxy.WithUpstreamCA(up.caFile))
	for i, a := range viaConnect(t, pass.Addr(), pool, wireRequest()) {
		checkAnswer(fmt.Sprintf("passthrough %d", i), a, wireStatus, wireResponseNames)
	}
	checkUpstream("passthrough", wireRequestNames)
	pass.Close()

	rec := startProxy(t, engine.Record, ca, resolve, forwardproxy.WithUpstreamCA(up.caFile), forwardproxy.WithCassette(yamlPath))
	for i, a := range viaConnect(t, rec.Addr(), pool, wireRequest()) {
		checkAnswer(fmt.Sprintf("record %d", i), a, wireStatus, wireResponseNames)
	}
	checkUpstream("record", wireRequestNames)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := cassette.Load(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	it := c.Interactions[0]
	if want := withoutName(wireRequestNames, "host"); !reflect.DeepEqual(it.Request.HeaderNames, want) {
		t.Errorf("cassette request names %q, want %q", it.Request.HeaderNames, want)
	}
	if !reflect.DeepEqual(it.Response.HeaderNames, wireResponseNames) || it.Response.Status != wireStatus {
		t.Errorf("cassette response %q names %q, want %q %q", it.Response.Status, it.Response.HeaderNames, wireStatus, wireResponseNames)
	}
	if _, ok := it.Response.Headers["X-Ms-Continuation"]; !ok {
		t.Errorf("cassette headers are not canonical: %v", it.Response.Headers)
	}
	up.ln.Close() // replay reaches nothing

	play := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(yamlPath))
	for i, a := range viaConnect(t, play.Addr(), pool, wireRequest()) {
		checkAnswer(fmt.Sprintf("replay YAML %d", i), a, wireStatus, wireResponseNames)
	}
	if s := play.Summary(); s.Misses != 0 || s.Replayed != 2 {
		t.Errorf("replay YAML: %s", s)
	}
	play.Close()

	// Test-proxy JSON keeps the spelling; the proxy writes names sorted ignoring case, and has no
	// reason phrase.
	jsonPath := filepath.Join(dir, "wire.json")
	if err := testproxyjson.Save(jsonPath, c, nil); err != nil {
		t.Fatal(err)
	}
	playJSON := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(jsonPath))
	for i, a := range viaConnect(t, playJSON.Addr(), pool, wireRequest()) {
		checkAnswer(fmt.Sprintf("replay JSON %d", i), a, "200 OK", sortedIgnoringCase(wireResponseNames))
	}
	if s := playJSON.Summary(); s.Misses != 0 {
		t.Errorf("replay JSON: %s", s)
	}
	playJSON.Close()

	// The test-proxy protocol, served as `azvcr start` serves it.
	up2 := startRawUpstream(t)
	storage := t.TempDir()
	tp := &lateDirect{}
	front := startProxy(t, engine.Passthrough, ca, forwardproxy.WithDirectHandler(tp),
		forwardproxy.WithResolve(wireHost, up2.ln.Addr().String()), forwardproxy.WithUpstreamCA(up2.caFile))
	tp.h = testproxy.New(testproxy.WithStorage(storage), testproxy.WithUpstream(front.Upstream()), testproxy.WithLogger(httpcheck.DiscardLogger()))
	admin := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + front.Addr()
	start := httpcheck.Do(t, admin, "POST", base+"/Record/Start", `{"x-recording-file":"wire.json"}`, "Content-Type", "application/json")
	id := start.Header.Get("X-Recording-Id")
	if id == "" {
		t.Fatalf("/Record/Start: %d %s", start.Code, start.Body)
	}
	checkAnswer("test-proxy record", viaTestProxy(t, front.Addr(), id, "record"), wireStatus, wireResponseNames)
	checkUpstream("test-proxy record", wireRequestNames)
	if r := httpcheck.Do(t, admin, "POST", base+"/Record/Stop", "", "X-Recording-Id", id); r.Code != http.StatusOK {
		t.Fatalf("/Record/Stop: %d %s", r.Code, r.Body)
	}
	data, err := os.ReadFile(filepath.Join(storage, "wire.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Entries []struct{ RequestHeaders, ResponseHeaders map[string]any }
	}
	if err := json.Unmarshal(data, &file); err != nil || len(file.Entries) != 1 {
		t.Fatalf("recording: %v\n%s", err, data)
	}
	for _, n := range wireResponseNames {
		if _, ok := file.Entries[0].ResponseHeaders[n]; !ok {
			t.Errorf("test-proxy recording lacks response header %q as spelled:\n%s", n, data)
		}
	}
	for _, n := range []string{"x-ms-documentdb-isquery", "X-MS-DOCUMENTDB-QUERY-ENABLECROSSPARTITION", "x-ms-max-item-count"} {
		if _, ok := file.Entries[0].RequestHeaders[n]; !ok {
			t.Errorf("test-proxy recording lacks request header %q as spelled:\n%s", n, data)
		}
	}
	up2.ln.Close()
	pb := httpcheck.Do(t, admin, "POST", base+"/Playback/Start", `{"x-recording-file":"wire.json"}`, "Content-Type", "application/json")
	pid := pb.Header.Get("X-Recording-Id")
	if pid == "" {
		t.Fatalf("/Playback/Start: %d %s", pb.Code, pb.Body)
	}
	checkAnswer("test-proxy playback", viaTestProxy(t, front.Addr(), pid, "playback"), "200 OK", sortedIgnoringCase(wireResponseNames))
}

// lateDirect is the test-proxy handler, set once the proxy it forwards through exists.
type lateDirect struct{ h http.Handler }

func (l *lateDirect) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.h.ServeHTTP(w, r) }
