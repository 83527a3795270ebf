package testproxy

// Tests of the Azure SDK test-proxy protocol (Mode TestProxy), driven over real HTTP the way the
// Go harness (sdk/internal/recording, sdk/resourcemanager/internal/testutil) drives Microsoft's
// proxy: admin calls to /Record/Start, /Playback/Start, /Admin/AddSanitizer..., and proxied
// traffic sent straight to the proxy with x-recording-id, x-recording-mode and
// x-recording-upstream-base-uri.

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/internal/httpcheck"
	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/testproxyjson"
	"github.com/azvcr/azvcr/upstream"
)

// ---- an ARM-like upstream ----

const (
	tpSub      = "9d2b5c1e-7a3f-4b6e-8c2d-1f0e3a4b5c6d"
	tpRGPath   = "/subscriptions/" + tpSub + "/resourceGroups/rg-azvcr/providers/Microsoft.Test"
	tpAPI      = "api-version=2024-01-01"
	tpRealAuth = "Bearer real-secret-token"

	tpCreateTarget = tpRGPath + "/widgets/w1?" + tpAPI
	tpCreateBody   = `{"location":"westus","properties":{"size":3}}`
	tpCreateAnswer = `{"id":"w1","name":"w1","properties":{"provisioningState":"Succeeded","size":3}}`
	// A path segment with an encoded slash and a query with encoded spaces and quotes: the URI
	// must reach upstream and the file exactly as the client wrote it.
	tpListTarget = tpRGPath + "/widgets/a%2Fb?" + tpAPI + "&$filter=name%20eq%20%27w1%27"
	tpListAnswer = `{"value":[{"name":"a/b"}]}`
	tpGzTarget   = tpRGPath + "/widgets/zipped?" + tpAPI
	tpGzAnswer   = `{"name":"zipped","properties":{"note":"gzip on the wire"}}`
	tpSkipTarget = tpRGPath + "/widgets/skipme?" + tpAPI
	tpSkipAnswer = `{"name":"skipme"}`
	tpPutTarget  = tpRGPath + "/widgets/nobody?" + tpAPI
	tpPutBody    = `{"secret":"do-not-store"}`
	tpPutAnswer  = `{"name":"nobody"}`
	tpPollTarget = tpRGPath + "/operations/op1?" + tpAPI
	tpSecretPath = tpRGPath + "/secrets/s1?" + tpAPI
)

type tpSeen struct {
	method, uri, body string
	header            http.Header
}

// armUpstream is a real TLS server standing in for management.azure.com.
type armUpstream struct {
	*httptest.Server
	caFile string
	mu     sync.Mutex
	seen   []tpSeen
	polls  int
}

func newARMUpstream(t *testing.T) *armUpstream {
	t.Helper()
	u := &armUpstream{}
	gz := cassettetest.Gzip(t, tpGzAnswer)
	jsonAnswer := func(w http.ResponseWriter, code int, body string) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, tpSeen{r.Method, r.RequestURI, string(body), r.Header.Clone()})
		u.mu.Unlock()
		switch r.Method + " " + r.RequestURI {
		case "POST " + tpCreateTarget:
			if !json.Valid(body) || !strings.Contains(string(body), `"westus"`) {
				http.Error(w, "unexpected create body "+string(body), http.StatusBadRequest)
				return
			}
			jsonAnswer(w, http.StatusCreated, tpCreateAnswer)
		case "GET " + tpListTarget:
			jsonAnswer(w, http.StatusOK, tpListAnswer)
		case "GET " + tpGzTarget:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz)
		case "GET " + tpSkipTarget:
			jsonAnswer(w, http.StatusOK, tpSkipAnswer)
		case "PUT " + tpPutTarget:
			jsonAnswer(w, http.StatusOK, tpPutAnswer)
		case "GET " + tpPollTarget:
			u.mu.Lock()
			u.polls++
			n := u.polls
			u.mu.Unlock()
			status := "InProgress"
			if n > 1 {
				status = "Succeeded"
			}
			jsonAnswer(w, http.StatusOK, fmt.Sprintf(`{"status":%q,"poll":%d}`, status, n))
		case "GET " + tpSecretPath:
			w.Header().Set("X-Custom-Secret", "topsecret-12345")
			w.Header().Set("X-Remove-Me", "gone")
			w.Header().Set("X-Also-Remove", "gone too")
			jsonAnswer(w, http.StatusOK, `{"name":"s1","properties":{"secretValue":"s3cr3t","other":"keep"}}`)
		default:
			http.Error(w, "upstream: no route for "+r.Method+" "+r.RequestURI, http.StatusTeapot)
		}
	}))
	u.Config.ErrorLog = log.New(io.Discard, "", 0)
	u.StartTLS()
	t.Cleanup(u.Close)
	u.caFile = filepath.Join(t.TempDir(), "arm-ca.pem")
	if err := os.WriteFile(u.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: u.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u *armUpstream) requests() []tpSeen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.seen)
}

// ---- a test-proxy client ----

// tpClient talks to a TestProxy-mode server as the Go harness does: straight to the server, no
// HTTP proxy from the environment.
type tpClient struct {
	t       *testing.T
	s       *Server
	base    string // scheme://host:port of the admin and proxied endpoint
	c       *http.Client
	storage string
}

func newTPServer(t *testing.T, opts ...Option) *tpClient {
	t.Helper()
	storage := t.TempDir()
	s := New(append([]Option{WithStorage(storage), WithLogger(httpcheck.DiscardLogger()), WithUpstream(guardedUpstream(t, ""))}, opts...)...)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &tpClient{t: t, s: s, base: hs.URL, c: &http.Client{Transport: tr, Timeout: 10 * time.Second}, storage: storage}
}

// guardedUpstream is the transport the command gives the server: the allow-list (loopback
// included) in front of a transport trusting caFile as well as the system roots.
func guardedUpstream(t *testing.T, caFile string) http.RoundTripper {
	t.Helper()
	var o upstream.Options
	if caFile != "" {
		o.CAFiles = []string{caFile}
	}
	tr, err := upstream.NewTransport(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	allow, err := upstream.NewAllowList(upstream.DefaultAllowedHosts)
	if err != nil {
		t.Fatal(err)
	}
	return &upstream.Guard{Next: tr, Allow: allow}
}

// withUpstreamCA forwards record sessions through a transport that trusts caFile.
func withUpstreamCA(t *testing.T, caFile string) Option {
	return WithUpstream(guardedUpstream(t, caFile))
}

// admin POSTs to an admin route; headers are name, value pairs.
func (p *tpClient) admin(route, body string, headers ...string) httpcheck.Result {
	p.t.Helper()
	if body != "" {
		headers = append([]string{"Content-Type", "application/json"}, headers...)
	}
	return httpcheck.Do(p.t, p.c, "POST", p.base+route, body, headers...)
}

func (p *tpClient) mustAdmin(route, body string, headers ...string) httpcheck.Result {
	p.t.Helper()
	r := p.admin(route, body, headers...)
	if r.Code != http.StatusOK {
		p.t.Fatalf("POST %s %s: %d %s", route, body, r.Code, r.Body)
	}
	return r
}

func startBodyJSON(file string) string {
	data, _ := json.Marshal(map[string]string{"x-recording-file": file})
	return string(data)
}

func (p *tpClient) startRecord(file string) string {
	p.t.Helper()
	body := ""
	if file != "" {
		body = startBodyJSON(file)
	}
	r := p.mustAdmin("/Record/Start", body)
	id := r.Header.Get("X-Recording-Id")
	if id == "" {
		p.t.Fatalf("/Record/Start: no x-recording-id (headers %v)", r.Header)
	}
	return id
}

// startPlayback starts playback of file and returns the id and the variables.
func (p *tpClient) startPlayback(file string) (string, map[string]any) {
	p.t.Helper()
	r := p.mustAdmin("/playback/start", startBodyJSON(file))
	return p.playbackStarted(r)
}

func (p *tpClient) playbackStarted(r httpcheck.Result) (string, map[string]any) {
	p.t.Helper()
	id := r.Header.Get("X-Recording-Id")
	if id == "" {
		p.t.Fatalf("/Playback/Start: no x-recording-id (headers %v)", r.Header)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		p.t.Errorf("/Playback/Start: Content-Type %q, want application/json", ct)
	}
	var vars map[string]any
	if err := json.Unmarshal([]byte(r.Body), &vars); err != nil || vars == nil {
		p.t.Fatalf("/Playback/Start: body %q is not a JSON object: %v", r.Body, err)
	}
	return id, vars
}

// send is one proxied request of session id. mode is "record" or "playback"; upstream is the
// x-recording-upstream-base-uri.
func (p *tpClient) send(id, mode, upstream, method, target, body string, headers ...string) httpcheck.Result {
	p.t.Helper()
	h := append([]string{"X-Recording-Id", id, "X-Recording-Mode", mode, "X-Recording-Upstream-Base-Uri", upstream}, headers...)
	return httpcheck.Do(p.t, p.c, method, p.base+target, body, h...)
}

// tpErrorMessage decodes an error answer: the base64 header and the JSON body's Message, which
// must agree.
func tpErrorMessage(t *testing.T, r httpcheck.Result, header string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(r.Header.Get(header))
	if err != nil || len(raw) == 0 {
		t.Fatalf("%s = %q: not base64 of a message (%v); body %s", header, r.Header.Get(header), err, r.Body)
	}
	return string(raw)
}

func expectKnownError(t *testing.T, what string, r httpcheck.Result, code int) string {
	t.Helper()
	if r.Code != code || r.Header.Get("X-Request-Known-Exception") != "true" {
		t.Errorf("%s: got %d (x-request-known-exception %q) %s, want %d with x-request-known-exception: true",
			what, r.Code, r.Header.Get("X-Request-Known-Exception"), r.Body, code)
		return ""
	}
	msg := tpErrorMessage(t, r, "X-Request-Known-Exception-Error")
	var body struct{ Message, Status string }
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil || body.Message != msg {
		t.Errorf("%s: body %s does not carry the message %q", what, r.Body, msg)
	}
	return msg
}

func expectMismatch(t *testing.T, what string, r httpcheck.Result, wants ...string) string {
	t.Helper()
	if r.Code != http.StatusNotFound || r.Header.Get("X-Request-Mismatch") != "true" {
		t.Errorf("%s: got %d (x-request-mismatch %q) %s, want 404 with x-request-mismatch: true",
			what, r.Code, r.Header.Get("X-Request-Mismatch"), r.Body)
		return ""
	}
	msg := tpErrorMessage(t, r, "X-Request-Mismatch-Error")
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: mismatch message %q does not name %q", what, msg, w)
		}
	}
	return msg
}

// ---- recordings written by the tests ----

func tpInteraction(method, uri, reqBody string, code int, respBody string, respHeaders ...string) *cassette.Interaction {
	reqH := http.Header{"Accept": {"application/json"}, "Authorization": {"Sanitized"}}
	if reqBody != "" {
		reqH.Set("Content-Type", "application/json")
	}
	respH := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	for i := 0; i+1 < len(respHeaders); i += 2 {
		respH.Set(respHeaders[i], respHeaders[i+1])
	}
	return &cassette.Interaction{
		Request:  cassette.Request{Method: method, URL: uri, Body: reqBody, Headers: reqH},
		Response: cassette.Response{Code: code, Body: respBody, Headers: respH},
	}
}

// writeRecording saves interactions as a test-proxy JSON file under the storage root.
func (p *tpClient) writeRecording(file string, vars map[string]string, its ...*cassette.Interaction) {
	p.t.Helper()
	for i, it := range its {
		it.ID = i
	}
	path := filepath.Join(p.storage, filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := testproxyjson.Save(path, &cassette.Cassette{Version: cassette.Version, Interactions: its}, vars); err != nil {
		p.t.Fatal(err)
	}
}

const tpARM = "https://management.azure.com"

// ---- 1, 2: record a session to a file, then play it back ----

func TestTestProxyRecordThenPlayback(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))

	// /Record/Start names the file relative to the storage root.
	id := p.startRecord("sub/dir/Test1.json")

	clientID := "5f2e8a8e-1b1c-4c2e-9c55-0a1b2c3d4e5f"
	steps := []struct {
		name, method, target, body string
		headers                    []string
		code                       int
		answer                     string
	}{
		{"JSON POST", "POST", tpCreateTarget, tpCreateBody,
			[]string{"Content-Type", "application/json", "X-Ms-Client-Request-Id", clientID}, 201, tpCreateAnswer},
		{"GET with an encoded path and query", "GET", tpListTarget, "", nil, 200, tpListAnswer},
		{"gzip-encoded answer", "GET", tpGzTarget, "", nil, 200, tpGzAnswer},
		{"skip request-response", "GET", tpSkipTarget, "", []string{"X-Recording-Skip", "request-response"}, 200, tpSkipAnswer},
		{"skip request-body", "PUT", tpPutTarget, tpPutBody,
			[]string{"Content-Type", "application/json", "X-Recording-Skip", "request-body"}, 200, tpPutAnswer},
		{"first poll", "GET", tpPollTarget, "", nil, 200, `{"status":"InProgress","poll":1}`},
		{"second poll", "GET", tpPollTarget, "", nil, 200, `{"status":"Succeeded","poll":2}`},
	}
	for _, st := range steps {
		r := p.send(id, "record", up.URL, st.method, st.target, st.body, append([]string{"Authorization", tpRealAuth}, st.headers...)...)
		httpcheck.Expect(t, "record "+st.name, r, st.code, st.answer) // gzip: whatever the encoding, the client reads the JSON
	}

	// Upstream saw every request once, at the raw target, with the real credentials and none of
	// the protocol's own headers.
	seen := up.requests()
	if len(seen) != len(steps) {
		t.Fatalf("upstream got %d requests, want %d", len(seen), len(steps))
	}
	for i, st := range steps {
		s := seen[i]
		if s.method != st.method || s.uri != st.target {
			t.Errorf("upstream #%d: %s %s, want %s %s", i, s.method, s.uri, st.method, st.target)
		}
		if s.body != st.body {
			t.Errorf("upstream #%d: body %q, want %q", i, s.body, st.body)
		}
		if got := s.header.Get("Authorization"); got != tpRealAuth {
			t.Errorf("upstream #%d: Authorization %q, want the real one", i, got)
		}
		for k := range s.header {
			if strings.HasPrefix(strings.ToLower(k), "x-recording-") {
				t.Errorf("upstream #%d: got protocol header %s", i, k)
			}
		}
	}

	// Nothing is written before /Record/Stop.
	file := filepath.Join(p.storage, "sub", "dir", "Test1.json")
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("recording file exists before /Record/Stop (err %v)", err)
	}
	p.mustAdmin("/Record/Stop", `{"randSeed":"42","n":7}`, "X-Recording-Id", id)
	// The session is gone.
	expectKnownError(t, "second /Record/Stop", p.admin("/Record/Stop", "", "X-Recording-Id", id), http.StatusBadRequest)

	c, vars, err := testproxyjson.Load(file)
	if err != nil {
		t.Fatalf("LoadTestProxy(%s): %v", file, err)
	}
	if want := map[string]string{"randSeed": "42", "n": "7"}; !maps.Equal(vars, want) {
		t.Errorf("variables %v, want %v", vars, want)
	}
	want := []struct{ method, target, body, answer string }{
		{"POST", tpCreateTarget, tpCreateBody, tpCreateAnswer},
		{"GET", tpListTarget, "", tpListAnswer},
		{"GET", tpGzTarget, "", tpGzAnswer},
		{"PUT", tpPutTarget, "", tpPutAnswer}, // request-body: kept, body dropped
		{"GET", tpPollTarget, "", `{"status":"InProgress","poll":1}`},
		{"GET", tpPollTarget, "", `{"status":"Succeeded","poll":2}`},
	}
	if len(c.Interactions) != len(want) {
		var got []string
		for _, it := range c.Interactions {
			got = append(got, it.Request.Method+" "+it.Request.URL)
		}
		t.Fatalf("the file holds %d entries, want %d:\n%s", len(c.Interactions), len(want), strings.Join(got, "\n"))
	}
	// azvcr's azure-ids rule puts the zero GUID in place of the subscription id.
	redactedURI := func(target string) string {
		return up.URL + strings.Replace(target, tpSub, redact.ZeroGUID, 1)
	}
	for i, w := range want {
		it := c.Interactions[i]
		if it.Request.Method != w.method || it.Request.URL != redactedURI(w.target) {
			t.Errorf("entry %d: %s %s, want %s %s", i, it.Request.Method, it.Request.URL, w.method, redactedURI(w.target))
		}
		if it.Request.Body != w.body {
			t.Errorf("entry %d: request body %q, want %q", i, it.Request.Body, w.body)
		}
		if it.Response.Body != w.answer {
			t.Errorf("entry %d: response body %q, want %q", i, it.Response.Body, w.answer)
		}
		if got := it.Request.Headers.Get("Authorization"); got != "Bearer "+redact.Redacted {
			t.Errorf("entry %d: Authorization %q, want %q", i, got, "Bearer "+redact.Redacted)
		}
		for k := range it.Request.Headers {
			if strings.HasPrefix(strings.ToLower(k), "x-recording-") || strings.EqualFold(k, "Host") {
				t.Errorf("entry %d: recorded request header %s", i, k)
			}
		}
	}
	raw, _ := os.ReadFile(file)
	for _, secret := range []string{"real-secret-token", "do-not-store", tpSub} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the recording file contains %q", secret)
		}
	}
	if !strings.Contains(string(raw), `"RequestUri": "`+redactedURI(tpListTarget)+`"`) {
		t.Errorf("the file does not hold the encoded URI %s verbatim:\n%s", redactedURI(tpListTarget), raw)
	}

	// ---- 2: playback of that file ----
	hitsBefore := len(up.requests())
	pid, pvars := p.startPlayback("sub/dir/Test1.json")
	if pid == id {
		t.Errorf("playback reused the recording id %s", id)
	}
	if want := map[string]any{"randSeed": "42", "n": "7"}; !reflect.DeepEqual(pvars, want) {
		t.Errorf("/Playback/Start variables %v, want %v (string values: the harness asserts randSeed is a string)", pvars, want)
	}

	newClientID := "0b9f7c52-aaaa-4bbb-8ccc-123456789abc"
	plays := []struct {
		name, method, target, body string
		headers                    []string
		code                       int
		answer                     string
	}{
		// The body's keys in another order, a fake token: still the recorded request.
		{"JSON POST", "POST", tpCreateTarget, `{"properties":{"size":3},"location":"westus"}`,
			[]string{"Content-Type", "application/json", "X-Ms-Client-Request-Id", newClientID}, 201, tpCreateAnswer},
		{"encoded path and query", "GET", tpListTarget, "", []string{"X-Ms-Client-Request-Id", newClientID}, 200, tpListAnswer},
		{"gzip entry", "GET", tpGzTarget, "", nil, 200, tpGzAnswer},
		{"first poll", "GET", tpPollTarget, "", nil, 200, `{"status":"InProgress","poll":1}`},
		{"second poll", "GET", tpPollTarget, "", nil, 200, `{"status":"Succeeded","poll":2}`},
	}
	for _, pl := range plays {
		r := p.send(pid, "playback", up.URL, pl.method, pl.target, pl.body, append([]string{"Authorization", "Bearer FakeToken"}, pl.headers...)...)
		httpcheck.Expect(t, "playback "+pl.name, r, pl.code, pl.answer)
		if got := r.Header.Get("X-Ms-Client-Request-Id"); slices.Contains(pl.headers, newClientID) && got != newClientID {
			t.Errorf("playback %s: x-ms-client-request-id %q, want the request's %s echoed", pl.name, got, newClientID)
		}
	}
	// Misses: the recording answered every poll already; the skipped pair was never recorded; a
	// request nothing resembles.
	for _, m := range []struct{ name, method, target string }{
		{"third poll", "GET", tpPollTarget},
		{"skipped pair", "GET", tpSkipTarget},
		{"never recorded", "DELETE", tpRGPath + "/widgets/w9?" + tpAPI},
	} {
		r := p.send(pid, "playback", up.URL, m.method, m.target, "", "Authorization", "Bearer FakeToken")
		path, _, _ := strings.Cut(m.target, "?")
		expectMismatch(t, "playback "+m.name, r, m.method, path[strings.LastIndex(path, "/"):])
	}
	if n := len(up.requests()); n != hitsBefore {
		t.Errorf("playback sent %d requests upstream", n-hitsBefore)
	}
	p.mustAdmin("/Playback/Stop", `{"randSeed":"42"}`, "X-Recording-Id", pid)
	r := p.send(pid, "playback", up.URL, "GET", tpListTarget, "")
	expectKnownError(t, "request after /Playback/Stop", r, http.StatusBadRequest)
	expectKnownError(t, "second /Playback/Stop", p.admin("/Playback/Stop", "", "X-Recording-Id", pid), http.StatusBadRequest)
}

// ---- the protocol over HTTPS, as the Go harness speaks it ----

func TestTestProxyOverTLS(t *testing.T) {
	up := newARMUpstream(t)
	storage := t.TempDir()
	s := New(WithLogger(httpcheck.DiscardLogger()), WithStorage(storage), withUpstreamCA(t, up.caFile))
	tlsSrv := httptest.NewTLSServer(s)
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(s) // plain HTTP as well, as :5000 and :5001
	t.Cleanup(plain.Close)
	addrs := []string{tlsSrv.Listener.Addr().String(), plain.Listener.Addr().String()}
	// The harness's client: a clone of the default transport that skips verification.
	tr := &http.Transport{Proxy: nil, ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	httpsC := &tpClient{t: t, s: s, base: "https://" + addrs[0], c: &http.Client{Transport: tr, Timeout: 10 * time.Second}, storage: storage}
	httpC := &tpClient{t: t, s: s, base: "http://" + addrs[1], c: &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}, storage: storage}

	r := httpcheck.Do(t, httpsC.c, "GET", httpsC.base+"/Admin/IsAlive", "")
	if r.Code != 200 || r.Resp.TLS == nil {
		t.Fatalf("GET https /Admin/IsAlive: %d, TLS %v", r.Code, r.Resp.TLS != nil)
	}
	httpsC.mustAdmin("/Admin/AddSanitizer", "{\n\"value\": \"go-sdk-test-rg\",\n\"regex\": \"rg-azvcr\"\n}", "X-Abstraction-Identifier", "GeneralRegexSanitizer")
	r = httpsC.mustAdmin("/record/start", startBodyJSON("tls/TestOverTLS.json"))
	id := r.Header.Get("X-Recording-Id")
	if id == "" {
		t.Fatal("/record/start over TLS: no x-recording-id")
	}
	r = httpsC.send(id, "record", up.URL, "POST", tpCreateTarget, tpCreateBody, "Content-Type", "application/json", "Authorization", tpRealAuth)
	httpcheck.Expect(t, "record over TLS", r, 201, tpCreateAnswer)
	if r.Resp.TLS == nil {
		t.Error("the proxied request did not travel over TLS")
	}
	// TU.StopRecording uses the plain-HTTP endpoint.
	httpC.mustAdmin("/record/stop", `{"randSeed":"1"}`, "X-Recording-Id", id)
	c, vars, err := testproxyjson.Load(filepath.Join(storage, "tls", "TestOverTLS.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != 1 || vars["randSeed"] != "1" {
		t.Fatalf("recorded %d entries, variables %v", len(c.Interactions), vars)
	}
	if u := c.Interactions[0].Request.URL; !strings.Contains(u, "/resourceGroups/go-sdk-test-rg/") {
		t.Errorf("recorded URI %s: the sanitizer registered over TLS did not apply", u)
	}

	pid, _ := httpsC.startPlayback("tls/TestOverTLS.json")
	r = httpsC.send(pid, "playback", up.URL, "POST", tpCreateTarget, tpCreateBody, "Content-Type", "application/json", "Authorization", "Bearer FakeToken")
	httpcheck.Expect(t, "playback over TLS", r, 201, tpCreateAnswer)
	httpC.mustAdmin("/playback/stop", `{"randSeed":"1","recordingRandomSeed":"0"}`, "X-Recording-Id", pid)
}

// ---- 3: routes ignore case ----

func TestTestProxyRoutesIgnoreCase(t *testing.T) {
	p := newTPServer(t)
	p.writeRecording("Case.json", map[string]string{"v": "1"}, tpInteraction("GET", tpARM+"/x", "", 200, `{"ok":true}`))
	for _, route := range []string{"/Playback/Start", "/playback/start", "/PLAYBACK/START", "/playback/start/"} {
		t.Run("playback "+route, func(t *testing.T) {
			r := p.admin(route, startBodyJSON("Case.json"))
			if r.Code != 200 {
				t.Fatalf("POST %s: %d %s", route, r.Code, r.Body)
			}
			id, vars := p.playbackStarted(r)
			if !reflect.DeepEqual(vars, map[string]any{"v": "1"}) {
				t.Errorf("POST %s: variables %v", route, vars)
			}
			httpcheck.Expect(t, "proxied", p.send(id, "playback", tpARM, "GET", "/x", ""), 200, `{"ok":true}`)
			stop := strings.Replace(strings.Replace(route, "start", "stop", 1), "START", "STOP", 1)
			stop = strings.Replace(stop, "Start", "Stop", 1)
			p.mustAdmin(stop, "", "X-Recording-Id", id)
		})
	}
	for _, route := range []string{"/Record/Start", "/record/start", "/RECORD/START"} {
		t.Run("record "+route, func(t *testing.T) {
			r := p.admin(route, "")
			if r.Code != 200 || r.Header.Get("X-Recording-Id") == "" {
				t.Fatalf("POST %s: %d %q", route, r.Code, r.Body)
			}
			p.mustAdmin(strings.ToLower(strings.Replace(route, "tart", "top", 1)), "", "X-Recording-Id", r.Header.Get("X-Recording-Id"))
		})
	}
	for _, route := range []string{"/Admin/IsAlive", "/admin/isalive", "/ADMIN/ISALIVE"} {
		if r := httpcheck.Do(t, p.c, "GET", p.base+route, ""); r.Code != 200 {
			t.Errorf("GET %s: %d %s", route, r.Code, r.Body)
		}
	}
	// Not a route: answered, but not as a success.
	if r := p.admin("/Playback/Begin", startBodyJSON("Case.json")); r.Code == 200 || r.Header.Get("X-Recording-Id") != "" {
		t.Errorf("POST /Playback/Begin: %d id %q, want an error", r.Code, r.Header.Get("X-Recording-Id"))
	}
}

// ---- proxied requests the protocol refuses ----

func TestTestProxyProxiedErrors(t *testing.T) {
	p := newTPServer(t)
	p.writeRecording("E.json", nil, tpInteraction("GET", tpARM+"/x", "", 200, `{}`))
	id, _ := p.startPlayback("E.json")
	cases := []struct {
		name    string
		headers []string
	}{
		{"no x-recording-id", []string{"X-Recording-Mode", "playback", "X-Recording-Upstream-Base-Uri", tpARM}},
		{"unknown x-recording-id", []string{"X-Recording-Id", "nope", "X-Recording-Mode", "playback", "X-Recording-Upstream-Base-Uri", tpARM}},
		{"no upstream base", []string{"X-Recording-Id", id, "X-Recording-Mode", "playback"}},
		{"upstream base not a URI", []string{"X-Recording-Id", id, "X-Recording-Mode", "playback", "X-Recording-Upstream-Base-Uri", "management.azure.com"}},
	}
	for _, tc := range cases {
		expectKnownError(t, tc.name, httpcheck.Do(t, p.c, "GET", p.base+"/x", "", tc.headers...), http.StatusBadRequest)
	}
	// A well-formed request on the same session still plays.
	httpcheck.Expect(t, "valid request", p.send(id, "playback", tpARM, "GET", "/x", ""), 200, `{}`)
	// x-recording-mode decides: an admin path with it is proxied (and misses), not routed.
	expectMismatch(t, "admin path proxied", p.send(id, "playback", tpARM, "GET", "/Admin/IsAlive", ""), "/Admin/IsAlive")
}

// ---- 4: sanitizers ----

// The armcosmos harness: a live URI with a real subscription id, a real operation id and a
// random resource-group name must match a recording that holds the sanitized values.
func TestTestProxyServerSanitizersMatchSanitizedRecording(t *testing.T) {
	const (
		guidRe  = "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"
		opGUID  = "3f6c1a2b-9d8e-4f70-a1b2-c3d4e5f60718"
		recPath = "/subscriptions/" + redact.ZeroGUID + "/resourcegroups/go-sdk-test-rg/providers/Microsoft.DocumentDB/databaseAccounts/acct/operationResults/" + redact.ZeroGUID + "?api-version=2023-04-15"
		live    = "/subscriptions/" + tpSub + "/resourcegroups/go-sdk-test-4711/providers/Microsoft.DocumentDB/databaseAccounts/acct/operationResults/" + opGUID + "?api-version=2023-04-15"
	)
	// The harness marshals with json.MarshalIndent(v, "", ""): newlines, no indentation.
	body := func(v map[string]string) string {
		data, _ := json.MarshalIndent(v, "", "")
		return string(data)
	}
	guid := body(map[string]string{"value": redact.ZeroGUID, "regex": guidRe})
	cases := []struct {
		name  string
		kinds []string
		args  []string
	}{
		{"armcosmos: two GeneralRegexSanitizers",
			[]string{"GeneralRegexSanitizer", "GeneralRegexSanitizer"},
			[]string{guid, body(map[string]string{"value": "go-sdk-test-rg", "regex": `go-sdk-test-\d+`})}},
		{"GeneralRegexSanitizer and UriRegexSanitizer with groupForReplace",
			[]string{"GeneralRegexSanitizer", "UriRegexSanitizer"},
			[]string{guid, `{"value":"go-sdk-test-rg","regex":"resourcegroups/(?<rg>go-sdk-test-\\d+)/providers","groupForReplace":"rg"}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newTPServer(t)
			p.writeRecording("Ops.json", nil, tpInteraction("GET", tpARM+recPath, "", 200, `{"status":"Succeeded"}`))

			// Without sanitizers the live URI is not the recorded one.
			id, _ := p.startPlayback("Ops.json")
			expectMismatch(t, "before sanitizers", p.send(id, "playback", tpARM, "GET", live, "", "Authorization", "Bearer FakeToken"), "GET", opGUID)
			p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)

			ids := map[string]bool{}
			for i, kind := range tc.kinds {
				r := p.mustAdmin("/Admin/AddSanitizer", tc.args[i], "X-Abstraction-Identifier", kind)
				var got struct{ Sanitizer string }
				if err := json.Unmarshal([]byte(r.Body), &got); err != nil || got.Sanitizer == "" {
					t.Fatalf("AddSanitizer %s: body %q, want {\"Sanitizer\": id}", kind, r.Body)
				}
				ids[got.Sanitizer] = true
			}
			if len(ids) != len(tc.kinds) {
				t.Errorf("sanitizer ids %v are not distinct", ids)
			}
			id, _ = p.startPlayback("Ops.json")
			r := p.send(id, "playback", tpARM, "GET", live, "", "Authorization", "Bearer FakeToken")
			httpcheck.Expect(t, "sanitized live request", r, 200, `{"status":"Succeeded"}`)
			p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)
		})
	}
}

func TestTestProxyAddAndRemoveSanitizers(t *testing.T) {
	p := newTPServer(t)
	rec := tpARM + "/items/alpha-N/beta-N"
	p.writeRecording("AB.json", nil,
		tpInteraction("GET", rec, "", 200, `{"n":1}`),
		tpInteraction("GET", rec, "", 200, `{"n":2}`))

	r := p.mustAdmin("/Admin/AddSanitizers", `[
		{"Name": "UriRegexSanitizer", "Body": {"value": "alpha-N", "regex": "alpha-\\d+"}},
		{"Name": "GeneralRegexSanitizer", "Body": {"value": "beta-N", "regex": "beta-\\d+"}}
	]`)
	var added struct{ Sanitizers []string }
	if err := json.Unmarshal([]byte(r.Body), &added); err != nil || len(added.Sanitizers) != 2 || added.Sanitizers[0] == "" || added.Sanitizers[0] == added.Sanitizers[1] {
		t.Fatalf("AddSanitizers: %s, want {\"Sanitizers\": [two ids]}", r.Body)
	}
	id, _ := p.startPlayback("AB.json")
	httpcheck.Expect(t, "both sanitizers", p.send(id, "playback", tpARM, "GET", "/items/alpha-1/beta-2", ""), 200, `{"n":1}`)

	r = p.mustAdmin("/Admin/RemoveSanitizers", fmt.Sprintf(`{"Sanitizers": [%q, "no-such-id"]}`, added.Sanitizers[0]))
	var removed struct{ Removed []string }
	if err := json.Unmarshal([]byte(r.Body), &removed); err != nil || !slices.Equal(removed.Removed, added.Sanitizers[:1]) {
		t.Fatalf("RemoveSanitizers: %s, want {\"Removed\": [%q]}", r.Body, added.Sanitizers[0])
	}
	// The URI sanitizer no longer applies; the general one still does (the miss shows beta-N).
	expectMismatch(t, "after removal", p.send(id, "playback", tpARM, "GET", "/items/alpha-1/beta-2", ""), "alpha-1", "beta-N")
	httpcheck.Expect(t, "already sanitized URI", p.send(id, "playback", tpARM, "GET", "/items/alpha-N/beta-7", ""), 200, `{"n":2}`)

	r = p.mustAdmin("/Admin/RemoveSanitizers", fmt.Sprintf(`{"Sanitizers": [%q]}`, added.Sanitizers[0]))
	if err := json.Unmarshal([]byte(r.Body), &removed); err != nil || len(removed.Removed) != 0 {
		t.Errorf("removing a removed sanitizer: %s, want {\"Removed\": []}", r.Body)
	}
}

func TestTestProxyBadSanitizers(t *testing.T) {
	p := newTPServer(t)
	cases := []struct {
		name, route, body string
		headers           []string
	}{
		{"unknown type", "/Admin/AddSanitizer", `{"value":"x"}`, []string{"X-Abstraction-Identifier", "NoSuchSanitizer"}},
		{"type names are case-sensitive", "/Admin/AddSanitizer", `{"value":"x","regex":"a"}`, []string{"X-Abstraction-Identifier", "generalregexsanitizer"}},
		{"no type", "/Admin/AddSanitizer", `{"value":"x","regex":"a"}`, nil},
		{"bad regex", "/Admin/AddSanitizer", `{"value":"x","regex":"("}`, []string{"X-Abstraction-Identifier", "GeneralRegexSanitizer"}},
		{"unknown session", "/Admin/AddSanitizer", `{"value":"x","regex":"a"}`, []string{"X-Abstraction-Identifier", "GeneralRegexSanitizer", "X-Recording-Id", "no-such-session"}},
		{"one unknown in a batch", "/Admin/AddSanitizers",
			`[{"Name":"GeneralRegexSanitizer","Body":{"value":"x","regex":"a"}},{"Name":"NoSuchSanitizer","Body":{}}]`, nil},
		{"batch not an array", "/Admin/AddSanitizers", `{"Name":"GeneralRegexSanitizer"}`, nil},
	}
	for _, tc := range cases {
		expectKnownError(t, tc.name, p.admin(tc.route, tc.body, tc.headers...), http.StatusBadRequest)
	}
}

// Session-level sanitizers apply to their session only, even with two sessions playing at once.
func TestTestProxySessionSanitizersIsolated(t *testing.T) {
	p := newTPServer(t)
	const n = 25
	sessions := []struct{ name, file, value string }{
		{"A", "iso/A.json", "alpha"},
		{"B", "iso/B.json", "beta"},
	}
	ids := make([]string, len(sessions))
	for i, s := range sessions {
		var its []*cassette.Interaction
		for j := range n + 1 { // one left over for after the concurrent part
			its = append(its, tpInteraction("GET", tpARM+"/things/"+s.value, "", 200, fmt.Sprintf(`{"from":%q,"i":%d}`, s.name, j)))
		}
		p.writeRecording(s.file, nil, its...)
		ids[i], _ = p.startPlayback(s.file)
	}
	sanIDs := make([]string, len(sessions))
	for i, s := range sessions {
		r := p.mustAdmin("/Admin/AddSanitizer", fmt.Sprintf(`{"value":%q,"regex":"thing-\\d+"}`, s.value),
			"X-Abstraction-Identifier", "UriRegexSanitizer", "X-Recording-Id", ids[i])
		var got struct{ Sanitizer string }
		if json.Unmarshal([]byte(r.Body), &got); got.Sanitizer == "" {
			t.Fatalf("session AddSanitizer: %s", r.Body)
		}
		sanIDs[i] = got.Sanitizer
	}

	// Both sessions send the same live request at once; each must get its own recording's answers
	// in order. Had a session seen the other's sanitizer, its URI would not be its recording's.
	var wg sync.WaitGroup
	errs := make(chan string, 2*n+2)
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				req, _ := http.NewRequest("GET", p.base+fmt.Sprintf("/things/thing-%d", 100+j), nil)
				req.Header.Set("X-Recording-Id", ids[i])
				req.Header.Set("X-Recording-Mode", "playback")
				req.Header.Set("X-Recording-Upstream-Base-Uri", tpARM)
				resp, err := p.c.Do(req)
				if err != nil {
					errs <- fmt.Sprintf("session %s #%d: %v", s.name, j, err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if want := fmt.Sprintf(`{"from":%q,"i":%d}`, s.name, j); resp.StatusCode != 200 || string(body) != want {
					errs <- fmt.Sprintf("session %s #%d: %d %s, want 200 %s", s.name, j, resp.StatusCode, body, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// A session without sanitizers of its own, on A's file: nothing of A's or B's applies.
	cid, _ := p.startPlayback("iso/A.json")
	expectMismatch(t, "third session", p.send(cid, "playback", tpARM, "GET", "/things/thing-1", ""), "thing-1")
	// Removing A's sanitizer from A: A no longer matches, B still does.
	r := p.mustAdmin("/Admin/RemoveSanitizers", fmt.Sprintf(`{"Sanitizers":[%q]}`, sanIDs[0]), "X-Recording-Id", ids[0])
	if !strings.Contains(r.Body, sanIDs[0]) {
		t.Errorf("RemoveSanitizers of a session sanitizer: %s", r.Body)
	}
	expectMismatch(t, "A after removal", p.send(ids[0], "playback", tpARM, "GET", "/things/thing-1", ""), "thing-1")
	httpcheck.Expect(t, "B after A's removal", p.send(ids[1], "playback", tpARM, "GET", "/things/thing-1", ""), 200, fmt.Sprintf(`{"from":"B","i":%d}`, n))
	for _, id := range append(ids, cid) {
		p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)
	}
}

// Sanitizers in record mode decide what reaches the file; the client still gets the real answer.
func TestTestProxyRecordSanitizers(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))
	id := p.startRecord("san/Rec.json")
	sanitizers := []struct{ kind, body string }{
		{"BodyKeySanitizer", `{"jsonPath":"$..secretValue","value":"Sanitized"}`},
		{"HeaderRegexSanitizer", `{"key":"X-Custom-Secret","value":"REPLACED","regex":"topsecret-\\d+"}`},
		{"RemoveHeaderSanitizer", `{"headersForRemoval":"X-Remove-Me, X-Also-Remove"}`},
	}
	for i, s := range sanitizers {
		h := []string{"X-Abstraction-Identifier", s.kind}
		if i%2 == 0 { // session-level and server-wide registrations both reach the file
			h = append(h, "X-Recording-Id", id)
		}
		p.mustAdmin("/Admin/AddSanitizer", s.body, h...)
	}
	r := p.send(id, "record", up.URL, "GET", tpSecretPath, "", "X-Remove-Me", "request side", "Authorization", tpRealAuth)
	if r.Code != 200 || !strings.Contains(r.Body, `"secretValue":"s3cr3t"`) || r.Header.Get("X-Custom-Secret") != "topsecret-12345" || r.Header.Get("X-Remove-Me") != "gone" {
		t.Errorf("the client did not get the real answer: %d %s %v", r.Code, r.Body, r.Header)
	}
	if got := up.requests()[0].header.Get("X-Remove-Me"); got != "request side" {
		t.Errorf("upstream got X-Remove-Me %q: sanitizers must not change what is sent", got)
	}
	p.mustAdmin("/Record/Stop", "", "X-Recording-Id", id)

	c, _, err := testproxyjson.Load(filepath.Join(p.storage, "san", "Rec.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != 1 {
		t.Fatalf("%d entries, want 1", len(c.Interactions))
	}
	it := c.Interactions[0]
	checks := []struct {
		what      string
		got, want []string
	}{
		{"BodyKeySanitizer", []string{it.Response.Body}, []string{`{"name":"s1","properties":{"secretValue":"Sanitized","other":"keep"}}`}},
		{"HeaderRegexSanitizer", tpHeader(it.Response.Headers, "X-Custom-Secret"), []string{"REPLACED"}},
		{"RemoveHeaderSanitizer, response", append(tpHeader(it.Response.Headers, "X-Remove-Me"), tpHeader(it.Response.Headers, "X-Also-Remove")...), nil},
		{"RemoveHeaderSanitizer, request", tpHeader(it.Request.Headers, "X-Remove-Me"), nil},
		{"default Authorization rule", tpHeader(it.Request.Headers, "Authorization"), []string{"Bearer " + redact.Redacted}},
	}
	for _, c := range checks {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: the file holds %q, want %q", c.what, c.got, c.want)
		}
	}
}

// tpHeader finds a header whatever the spelling of its name in the file.
func tpHeader(h http.Header, name string) []string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// ---- 5: matchers, and Reset ----

func TestTestProxySetMatcher(t *testing.T) {
	cases := []struct {
		name, matcher, args string
		rec                 *cassette.Interaction
		method, target      string
		body                string
		headers             []string
		stillMiss           string // a request the matcher must not make match (target)
	}{
		{name: "BodilessMatcher", matcher: "BodilessMatcher",
			rec:    tpInteraction("POST", tpARM+"/widgets?"+tpAPI, `{"size":1}`, 200, `{"matched":true}`),
			method: "POST", target: "/widgets?" + tpAPI, body: `{"size":2}`, headers: []string{"Content-Type", "application/json"},
			stillMiss: "/other?" + tpAPI},
		{name: "CustomDefaultMatcher compareBodies false", matcher: "CustomDefaultMatcher", args: `{"compareBodies":false,"excludedHeaders":":authority,:method,:path,:scheme","ignoreQueryOrdering":false}`,
			rec:    tpInteraction("POST", tpARM+"/widgets?"+tpAPI, `{"size":1}`, 200, `{"matched":true}`),
			method: "POST", target: "/widgets?" + tpAPI, body: `{"size":2}`, headers: []string{"Content-Type", "application/json"},
			stillMiss: "/widgets?api-version=2000-01-01"},
		{name: "CustomDefaultMatcher ignoredQueryParameters", matcher: "CustomDefaultMatcher", args: `{"ignoredQueryParameters": "sig"}`,
			rec:    tpInteraction("GET", tpARM+"/blob?x=1&sig=recorded", "", 200, `{"matched":true}`),
			method: "GET", target: "/blob?x=1&sig=live-signature",
			stillMiss: "/blob?x=2&sig=live-signature"},
		{name: "HeaderlessMatcher", matcher: "HeaderlessMatcher", args: `{}`,
			rec: func() *cassette.Interaction {
				it := tpInteraction("GET", tpARM+"/etagged", "", 200, `{"matched":true}`)
				it.Request.Headers.Set("If-None-Match", `"v1"`)
				return it
			}(),
			method: "GET", target: "/etagged", headers: []string{"If-None-Match", `"v2"`},
			stillMiss: "/etagged2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newTPServer(t)
			p.writeRecording("M.json", nil, tc.rec)
			id, _ := p.startPlayback("M.json")
			expectMismatch(t, "default matcher", p.send(id, "playback", tpARM, tc.method, tc.target, tc.body, tc.headers...), tc.method)
			p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)

			p.mustAdmin("/Admin/SetMatcher", tc.args, "X-Abstraction-Identifier", tc.matcher)
			id, _ = p.startPlayback("M.json")
			expectMismatch(t, "unrelated request", p.send(id, "playback", tpARM, tc.method, tc.stillMiss, tc.body, tc.headers...), tc.method)
			httpcheck.Expect(t, tc.matcher, p.send(id, "playback", tpARM, tc.method, tc.target, tc.body, tc.headers...), 200, `{"matched":true}`)
			p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)
		})
	}
	t.Run("unknown matcher", func(t *testing.T) {
		p := newTPServer(t)
		for _, m := range []string{"NoSuchMatcher", "RecordMatcher", ""} {
			expectKnownError(t, "SetMatcher "+m, p.admin("/Admin/SetMatcher", "{}", "X-Abstraction-Identifier", m), http.StatusBadRequest)
		}
	})
}

func TestTestProxyResetClearsServerWideSettings(t *testing.T) {
	p := newTPServer(t)
	p.writeRecording("R.json", nil,
		tpInteraction("POST", tpARM+"/ops/"+redact.ZeroGUID, `{"a":1}`, 200, `{"n":1}`),
		tpInteraction("POST", tpARM+"/ops/"+redact.ZeroGUID, `{"a":1}`, 200, `{"n":2}`))
	const live = "/ops/6a1f0c3e-2b4d-4e5f-8a9b-0c1d2e3f4a5b"
	p.mustAdmin("/Admin/AddSanitizer", `{"value":"00000000-0000-0000-0000-000000000000","regex":"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"}`,
		"X-Abstraction-Identifier", "GeneralRegexSanitizer")
	p.mustAdmin("/Admin/SetMatcher", "", "X-Abstraction-Identifier", "BodilessMatcher")
	id, _ := p.startPlayback("R.json")
	httpcheck.Expect(t, "before reset", p.send(id, "playback", tpARM, "POST", live, `{"a":9}`, "Content-Type", "application/json"), 200, `{"n":1}`)
	p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)

	p.mustAdmin("/Admin/Reset", "")
	id, _ = p.startPlayback("R.json")
	expectMismatch(t, "sanitizer after reset", p.send(id, "playback", tpARM, "POST", live, `{"a":1}`, "Content-Type", "application/json"), live)
	expectMismatch(t, "matcher after reset", p.send(id, "playback", tpARM, "POST", "/ops/"+redact.ZeroGUID, `{"a":9}`, "Content-Type", "application/json"), "POST")
	httpcheck.Expect(t, "exact request after reset", p.send(id, "playback", tpARM, "POST", "/ops/"+redact.ZeroGUID, `{"a":1}`, "Content-Type", "application/json"), 200, `{"n":1}`)
	p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)
}

// ---- 6: LRO answers replay without waits ----

func TestTestProxyLROShaping(t *testing.T) {
	p := newTPServer(t)
	cases := []struct {
		name    string
		code    int
		headers []string
		// want: header -> value; "" means absent
		want map[string]string
	}{
		{"201 with Azure-AsyncOperation", 201, []string{"Azure-AsyncOperation", tpARM + "/op?x=1"},
			map[string]string{"Retry-After-Ms": "1", "Azure-Asyncoperation": tpARM + "/op?x=1"}},
		{"202 with Location", 202, []string{"Location", tpARM + "/loc"}, map[string]string{"Retry-After-Ms": "1"}},
		{"202 with Azure-AsyncOperation and Retry-After", 202, []string{"Azure-AsyncOperation", tpARM + "/op2", "Retry-After", "15"},
			map[string]string{"Retry-After-Ms": "1", "Retry-After": "0"}},
		{"Retry-After: 30", 200, []string{"Retry-After", "30"}, map[string]string{"Retry-After": "0"}},
		{"plain 200", 200, nil, map[string]string{"Retry-After-Ms": "", "Retry-After": ""}},
	}
	var its []*cassette.Interaction
	for i, tc := range cases {
		its = append(its, tpInteraction("PUT", fmt.Sprintf("%s/lro/%d", tpARM, i), "", tc.code, `{"status":"Accepted"}`, tc.headers...))
	}
	p.writeRecording("LRO.json", nil, its...)
	id, _ := p.startPlayback("LRO.json")
	for i, tc := range cases {
		r := p.send(id, "playback", tpARM, "PUT", fmt.Sprintf("/lro/%d", i), "")
		if r.Code != tc.code {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, r.Code, tc.code, r.Body)
		}
		for h, v := range tc.want {
			if got := r.Header.Get(h); got != v {
				t.Errorf("%s: %s = %q, want %q", tc.name, h, got, v)
			}
		}
	}
}

// ---- 7: in-memory recordings ----

func TestTestProxyInMemoryRecording(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))
	id := p.startRecord("") // no body: in memory
	httpcheck.Expect(t, "record", p.send(id, "record", up.URL, "GET", tpListTarget, ""), 200, tpListAnswer)
	httpcheck.Expect(t, "record poll", p.send(id, "record", up.URL, "GET", tpPollTarget, ""), 200, `{"status":"InProgress","poll":1}`)
	p.mustAdmin("/Record/Stop", `{"randSeed":"5"}`, "X-Recording-Id", id)
	if entries, _ := os.ReadDir(p.storage); len(entries) != 0 {
		t.Errorf("an in-memory recording wrote %d files to the storage root", len(entries))
	}

	hits := len(up.requests())
	r := p.mustAdmin("/Playback/Start", "", "X-Recording-Id", id)
	pid, vars := p.playbackStarted(r)
	if pid == id {
		t.Errorf("playback session reuses the recording id")
	}
	if !reflect.DeepEqual(vars, map[string]any{"randSeed": "5"}) {
		t.Errorf("variables %v, want randSeed 5", vars)
	}
	httpcheck.Expect(t, "playback", p.send(pid, "playback", up.URL, "GET", tpListTarget, ""), 200, tpListAnswer)
	httpcheck.Expect(t, "playback poll", p.send(pid, "playback", up.URL, "GET", tpPollTarget, ""), 200, `{"status":"InProgress","poll":1}`)
	expectMismatch(t, "second poll", p.send(pid, "playback", up.URL, "GET", tpPollTarget, ""), "/operations/op1")
	if n := len(up.requests()); n != hits {
		t.Errorf("playback went upstream %d times", n-hits)
	}
	p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", pid)

	expectKnownError(t, "playback of an unknown in-memory id", p.admin("/Playback/Start", "", "X-Recording-Id", "no-such-id"), http.StatusBadRequest)
	expectKnownError(t, "playback with neither file nor id", p.admin("/Playback/Start", ""), http.StatusBadRequest)
}

// ---- 8: what /Playback/Start loads ----

func TestTestProxyPlaybackStartFiles(t *testing.T) {
	p := newTPServer(t)
	t.Run("missing file", func(t *testing.T) {
		r := p.admin("/Playback/Start", startBodyJSON("nope/Missing.json"))
		if r.Code != http.StatusNotFound {
			t.Fatalf("status %d %s, want 404", r.Code, r.Body)
		}
		want := filepath.Join(p.storage, "nope", "Missing.json")
		var body struct{ Message string }
		if json.Unmarshal([]byte(r.Body), &body); !strings.Contains(body.Message, want) {
			t.Errorf("message %q does not name %s", body.Message, want)
		}
		if r.Header.Get("X-Recording-Id") != "" {
			t.Errorf("a failed start returned an id")
		}
	})
	t.Run("YAML cassette", func(t *testing.T) {
		path := filepath.Join(p.storage, "yaml", "rec.yaml")
		os.MkdirAll(filepath.Dir(path), 0o755)
		it := tpInteraction("GET", tpARM+"/from/yaml?"+tpAPI, "", 200, `{"format":"yaml"}`)
		if err := cassette.Save(path, &cassette.Cassette{Version: cassette.Version, Variables: map[string]string{"k": "v"}, Interactions: []*cassette.Interaction{it}}); err != nil {
			t.Fatal(err)
		}
		id, vars := p.startPlayback("yaml/rec.yaml")
		if !reflect.DeepEqual(vars, map[string]any{"k": "v"}) {
			t.Errorf("variables %v, want k=v", vars)
		}
		httpcheck.Expect(t, "YAML playback", p.send(id, "playback", tpARM, "GET", "/from/yaml?"+tpAPI, ""), 200, `{"format":"yaml"}`)
		p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)
	})
	t.Run("absolute path, no variables", func(t *testing.T) {
		abs := filepath.Join(t.TempDir(), "Abs.json")
		if err := testproxyjson.Save(abs, &cassette.Cassette{Interactions: []*cassette.Interaction{tpInteraction("GET", tpARM+"/abs", "", 204, "")}}, nil); err != nil {
			t.Fatal(err)
		}
		r := p.mustAdmin("/Playback/Start", startBodyJSON(abs))
		id, vars := p.playbackStarted(r)
		if len(vars) != 0 || strings.TrimSpace(r.Body) != "{}" {
			t.Errorf("body %q, want {}", r.Body)
		}
		httpcheck.Expect(t, "absolute-path playback", p.send(id, "playback", tpARM, "GET", "/abs", ""), 204, "")
	})
	t.Run("not a recording", func(t *testing.T) {
		os.WriteFile(filepath.Join(p.storage, "Bad.json"), []byte(`{"Entries": [{"RequestUri": 5}]}`), 0o644)
		r := p.admin("/Playback/Start", startBodyJSON("Bad.json"))
		if msg := expectKnownError(t, "malformed file", r, http.StatusBadRequest); !strings.Contains(msg, "Bad.json") {
			t.Errorf("message %q does not name the file", msg)
		}
	})
}

// Two record sessions at once, from goroutines: each file holds its own session's exchanges only.
func TestTestProxyConcurrentRecordSessions(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))
	const n = 10
	sessions := []struct{ file, method, target, body, answer string }{
		{"conc/Create.json", "POST", tpCreateTarget, tpCreateBody, tpCreateAnswer},
		{"conc/List.json", "GET", tpListTarget, "", tpListAnswer},
	}
	ids := []string{p.startRecord(sessions[0].file), p.startRecord(sessions[1].file)}
	if ids[0] == ids[1] {
		t.Fatalf("two record sessions share id %s", ids[0])
	}
	var wg sync.WaitGroup
	errs := make(chan string, 2*n)
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				var body io.Reader
				if s.body != "" {
					body = strings.NewReader(s.body)
				}
				req, _ := http.NewRequest(s.method, p.base+s.target, body)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Recording-Id", ids[i])
				req.Header.Set("X-Recording-Mode", "record")
				req.Header.Set("X-Recording-Upstream-Base-Uri", up.URL)
				resp, err := p.c.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != s.answer {
					errs <- fmt.Sprintf("%s #%d: %d %s", s.file, j, resp.StatusCode, got)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for i, s := range sessions {
		p.mustAdmin("/Record/Stop", "", "X-Recording-Id", ids[i])
		c, _, err := testproxyjson.Load(filepath.Join(p.storage, filepath.FromSlash(s.file)))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Interactions) != n {
			t.Errorf("%s: %d entries, want %d", s.file, len(c.Interactions), n)
		}
		for j, it := range c.Interactions {
			if it.ID != j || it.Request.Method != s.method || it.Response.Body != s.answer {
				t.Errorf("%s entry %d: id %d %s %s → %q", s.file, j, it.ID, it.Request.Method, it.Request.URL, it.Response.Body)
			}
		}
	}
}

// A recording file named .yaml is written as an azvcr cassette, and plays back.
func TestTestProxyRecordToYAML(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))
	id := p.startRecord("y/Rec.yaml")
	httpcheck.Expect(t, "poll 1", p.send(id, "record", up.URL, "GET", tpPollTarget, "", "Authorization", tpRealAuth), 200, `{"status":"InProgress","poll":1}`)
	httpcheck.Expect(t, "poll 2", p.send(id, "record", up.URL, "GET", tpPollTarget, "", "Authorization", tpRealAuth), 200, `{"status":"Succeeded","poll":2}`)
	p.mustAdmin("/Record/Stop", `{"randSeed":"9"}`, "X-Recording-Id", id)

	c := cassettetest.MustLoad(t, filepath.Join(p.storage, "y", "Rec.yaml"))
	if len(c.Interactions) != 2 || !maps.Equal(c.Variables, map[string]string{"randSeed": "9"}) {
		t.Fatalf("cassette: %d interactions, variables %v", len(c.Interactions), c.Variables)
	}
	for i, it := range c.Interactions {
		if it.ID != i || it.Request.Headers.Get("Authorization") != "Bearer "+redact.Redacted {
			t.Errorf("interaction %d: id %d, Authorization %q", i, it.ID, it.Request.Headers.Get("Authorization"))
		}
	}
	pid, vars := p.startPlayback("y/Rec.yaml")
	if !reflect.DeepEqual(vars, map[string]any{"randSeed": "9"}) {
		t.Errorf("variables %v", vars)
	}
	httpcheck.Expect(t, "replayed poll 1", p.send(pid, "playback", up.URL, "GET", tpPollTarget, ""), 200, `{"status":"InProgress","poll":1}`)
	httpcheck.Expect(t, "replayed poll 2", p.send(pid, "playback", up.URL, "GET", tpPollTarget, ""), 200, `{"status":"Succeeded","poll":2}`)
}

// /Record/Stop with x-recording-skip: request-response discards the session.
func TestTestProxyRecordStopSkip(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))
	id := p.startRecord("skip/Discarded.json")
	httpcheck.Expect(t, "record", p.send(id, "record", up.URL, "GET", tpListTarget, ""), 200, tpListAnswer)
	p.mustAdmin("/Record/Stop", "", "X-Recording-Id", id, "X-Recording-Skip", "request-response")
	if _, err := os.Stat(filepath.Join(p.storage, "skip", "Discarded.json")); !os.IsNotExist(err) {
		t.Errorf("a discarded recording was written (stat: %v)", err)
	}
	expectKnownError(t, "proxied after stop", p.send(id, "record", up.URL, "GET", tpListTarget, ""), http.StatusBadRequest)
}

// The Go harness's SetBodilessMatcher(t, ...) sets the matcher for its session after
// /Playback/Start; other sessions keep the default.
func TestTestProxySessionMatcher(t *testing.T) {
	p := newTPServer(t)
	p.writeRecording("S.json", nil, tpInteraction("POST", tpARM+"/widgets?"+tpAPI, `{"size":1}`, 200, `{"matched":true}`))
	id, _ := p.startPlayback("S.json")
	other, _ := p.startPlayback("S.json")
	p.mustAdmin("/Admin/SetMatcher", "", "X-Abstraction-Identifier", "BodilessMatcher", "X-Recording-Id", id)
	send := func(sess string) httpcheck.Result {
		return p.send(sess, "playback", tpARM, "POST", "/widgets?"+tpAPI, `{"size":2}`, "Content-Type", "application/json")
	}
	httpcheck.Expect(t, "session with BodilessMatcher", send(id), 200, `{"matched":true}`)
	expectMismatch(t, "other session keeps the default matcher", send(other), "POST")
	expectKnownError(t, "SetMatcher for an unknown session", p.admin("/Admin/SetMatcher", "", "X-Abstraction-Identifier", "BodilessMatcher", "X-Recording-Id", "nope"), http.StatusBadRequest)
}
