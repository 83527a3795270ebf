package testproxy

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/internal/httpcheck"
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
			w.Header().Set("X-Custom-Tag", "topsecret-12345")
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
// x-recording-upstream-base-uri. Like an SDK client it sends Accept and Authorization (and a
// JSON Content-Type with a body) unless headers say otherwise: the headers tpInteraction records.
func (p *tpClient) send(id, mode, upstream, method, target, body string, headers ...string) httpcheck.Result {
	p.t.Helper()
	h := []string{"X-Recording-Id", id, "X-Recording-Mode", mode, "X-Recording-Upstream-Base-Uri", upstream,
		"Accept", "application/json", "Authorization", "Bearer FakeToken"}
	if body != "" {
		h = append(h, "Content-Type", "application/json")
	}
	h = append(h, headers...)
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

// tpInteraction is a recorded exchange whose request has the headers send sends (Go's client
// adds Accept-Encoding, User-Agent and, on bodies and writes, Content-Length).
func tpInteraction(method, uri, reqBody string, code int, respBody string, respHeaders ...string) *cassette.Interaction {
	reqH := http.Header{"Accept": {"application/json"}, "Authorization": {"Sanitized"}, "Accept-Encoding": {"gzip"}, "User-Agent": {"Go-http-client/1.1"}}
	if reqBody != "" {
		reqH.Set("Content-Type", "application/json")
	}
	if reqBody != "" || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		reqH.Set("Content-Length", fmt.Sprint(len(reqBody)))
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

// keepNamesAndIDs removes the central $..name and $..id sanitizers server-wide, as ARM harnesses
// do, so that recorded bodies keep the names the tests compare.
func (p *tpClient) keepNamesAndIDs() {
	p.t.Helper()
	r := p.mustAdmin("/Admin/RemoveSanitizers", `{"Sanitizers":["AZSDK3493","AZSDK3430"]}`)
	if r.Body != `{"Removed":["AZSDK3493","AZSDK3430"]}`+"\n" {
		p.t.Fatalf("RemoveSanitizers: %s", r.Body)
	}
}
