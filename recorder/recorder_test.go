package recorder

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/internal/httpcheck"
	"github.com/azvcr/azvcr/secrets"
)

// service is a small HTTPS service: GET /items/{id} and POST /query, answering with a cookie
// and a date the recording must redact.
func service(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Set-Cookie", "session=s3cr3t-cookie-value; HttpOnly")
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/items/"):
			kind, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			io.WriteString(w, `{"id":"`+strings.TrimPrefix(r.URL.Path, "/items/")+`","auth":"`+kind+`"}`)
		case r.Method == http.MethodPost && r.URL.Path == "/query":
			io.WriteString(w, `{"echo":`+string(body)+`}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// send sends a request through c and returns the status and body; headers are name, value pairs.
func send(t *testing.T, c *http.Client, method, url, body string, headers ...string) (int, string) {
	t.Helper()
	r := httpcheck.Do(t, c, method, url, body, headers...)
	return r.Code, r.Body
}

// lowerCase sends header names in lower case, as some clients spell them.
type lowerCase struct{ next http.RoundTripper }

func (l lowerCase) RoundTrip(r *http.Request) (*http.Response, error) {
	out := *r
	out.Header = http.Header{}
	for k, v := range r.Header {
		out.Header[strings.ToLower(k)] = v
	}
	return l.next.RoundTrip(&out)
}

// workload is what the tests record and replay: two reads and a query, one with its secret in a
// header spelled in lower case (as some clients spell it).
func workload(t *testing.T, c *http.Client, base string) []string {
	t.Helper()
	lower := &http.Client{Transport: lowerCase{c.Transport}}
	var out []string
	for _, call := range []struct {
		client             *http.Client
		method, path, body string
		secret             string
	}{
		{c, "GET", "/items/a", "", "Bearer token-one-secret"},
		{lower, "POST", "/query", `{"query":"SELECT * FROM c","parameters":[]}`, "Bearer token-two-secret"},
		{c, "GET", "/items/b", "", "Bearer token-one-secret"},
	} {
		code, body := send(t, call.client, call.method, base+call.path, call.body, "Authorization", call.secret)
		out = append(out, call.method+" "+call.path+" "+http.StatusText(code)+" "+body)
	}
	return out
}

func TestRecordThenReplay(t *testing.T) {
	srv, hits := service(t)
	dir := t.TempDir()

	rec := newSpy(t, "TestOrders/by region")
	r := Start(rec, WithMode(ModeRecord), WithCassetteDir(dir), WithRealTransport(srv.Client().Transport))
	recorded := workload(t, r.Client(), srv.URL)
	rec.finish()
	if rec.Failed() || hits.Load() != 3 {
		t.Fatalf("record: errors %q, %d requests reached the service", rec.errorText(), hits.Load())
	}
	path := filepath.Join(dir, "TestOrders", "by_region.yaml")
	if r.CassettePath() != path {
		t.Errorf("cassette %s, want %s", r.CassettePath(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"token-one-secret", "token-two-secret", "s3cr3t-cookie-value"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the cassette holds %q", secret)
		}
	}
	for _, f := range secrets.Lint(path, data) {
		t.Errorf("lint: %s", f)
	}
	// Header names as a server sees them: the query's lower-case authorization is Authorization.
	if h := cassettetest.MustLoad(t, path).Interactions[1].Request.Headers; len(h["authorization"]) != 0 || len(h["Authorization"]) != 1 {
		t.Errorf("recorded query headers %v", h)
	}
	if _, err := os.Stat(path + recordingSuffix); !os.IsNotExist(err) {
		t.Errorf("the recording file is still there after a passing test: %v", err)
	}

	srv.Close() // replay must not need it
	play := newSpy(t, "TestOrders/by region")
	p := Start(play, WithCassetteDir(dir)) // mode from the environment: replay
	if p.Mode() != ModeReplay {
		t.Fatalf("mode %s with no environment, want replay", p.Mode())
	}
	replayed := workload(t, p.Client(), srv.URL)
	if s := p.Summary(); s.Replayed != 3 || s.Misses != 0 || s.Unused != 0 {
		t.Errorf("replay summary %s", s)
	}
	play.finish()
	if play.Failed() {
		t.Fatalf("replay reported: %s", play.errorText())
	}
	if strings.Join(recorded, "\n") != strings.Join(replayed, "\n") {
		t.Errorf("replayed\n%s\nrecorded\n%s", strings.Join(replayed, "\n"), strings.Join(recorded, "\n"))
	}
	if !strings.Contains(play.logText(), "3 replayed, 0 unused, 0 misses") {
		t.Errorf("no summary in the test log: %q", play.logText())
	}
}

// recordOne records GET /items/{id} into dir under the test name, with the outcome of the test
// the recorder belongs to (failed or not).
func recordOne(t *testing.T, srv *httptest.Server, dir, id string, fail bool) *spyT {
	t.Helper()
	s := newSpy(t, "TestOne")
	r := Start(s, WithMode(ModeRecord), WithCassetteDir(dir), WithRealTransport(srv.Client().Transport))
	send(t, r.Client(), "GET", srv.URL+"/items/"+id, "", "Authorization", "Bearer x-secret")
	if fail {
		s.Fail()
	}
	s.finish()
	return s
}

func TestRecordingReplacesTheCassetteOnlyWhenTheTestPasses(t *testing.T) {
	srv, _ := service(t)
	dir := t.TempDir()
	path := CassettePath(dir, "TestOne")

	s := recordOne(t, srv, dir, "first", true)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a failed first recording became the cassette: %v", err)
	}
	if !strings.Contains(s.logText(), path+recordingSuffix) {
		t.Errorf("the log does not say where the failed recording is: %q", s.logText())
	}
	_, err := start(newSpy(t, "TestOne"), []Option{WithCassetteDir(dir), WithMode(ModeReplay)})
	if err == nil || !strings.Contains(err.Error(), "AZVCR_MODE=record") || !strings.Contains(err.Error(), recordingSuffix) {
		t.Errorf("replay with no cassette: %v", err)
	}

	recordOne(t, srv, dir, "second", false)
	good := onlyBody(t, path)
	recordOne(t, srv, dir, "third", true)
	if got := onlyBody(t, path); got != good {
		t.Errorf("a failed re-recording changed the cassette: %q, was %q", got, good)
	}
	if !strings.Contains(good, `"second"`) {
		t.Errorf("cassette holds %q", good)
	}
	if c := onlyBody(t, path+recordingSuffix); !strings.Contains(c, `"third"`) {
		t.Errorf("the failed run's recording holds %q", c)
	}
	recordOne(t, srv, dir, "fourth", false)
	if got := onlyBody(t, path); !strings.Contains(got, `"fourth"`) {
		t.Errorf("a passing re-recording did not replace the cassette: %q", got)
	}
}

// onlyBody is the response body of the one interaction in the cassette at path.
func onlyBody(t *testing.T, path string) string {
	t.Helper()
	c := cassettetest.MustLoad(t, path)
	if len(c.Interactions) != 1 {
		t.Fatalf("%s: %d interactions", path, len(c.Interactions))
	}
	return c.Interactions[0].Response.Body
}

func TestMissFailsTheTestAndAnswers490(t *testing.T) {
	srv, _ := service(t)
	dir := t.TempDir()
	recordOne(t, srv, dir, "a", false)
	srv.Close()

	s := newSpy(t, "TestOne")
	r := Start(s, WithCassetteDir(dir), WithMode(ModeReplay))
	code, body := send(t, r.Client(), "GET", srv.URL+"/items/zzz", "")
	if code != engine.MissStatus || !strings.Contains(body, "AzvcrNoRecording") {
		t.Errorf("miss answered %d %s", code, body)
	}
	errs := s.errorText()
	for _, want := range []string{"GET " + srv.URL + "/items/zzz", "closest recorded #0", "/items/a", CassettePath(dir, "TestOne")} {
		if !strings.Contains(errs, want) {
			t.Errorf("the test's error %q does not say %q", errs, want)
		}
	}
	s.finish()
	if !strings.Contains(s.logText(), "1 recorded interactions in") || !strings.Contains(s.logText(), "#0 GET "+srv.URL+"/items/a") {
		t.Errorf("unused interaction not reported: %q", s.logText())
	}
}

func TestUnusedInteractions(t *testing.T) {
	srv, _ := service(t)
	dir := t.TempDir()
	recordOne(t, srv, dir, "a", false)
	for _, tt := range []struct {
		name string
		opts []Option
		fail bool
	}{
		{"logged by default", nil, false},
		{"fail when asked", []Option{WithFailOnUnused()}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpy(t, "TestOne")
			Start(s, append(tt.opts, WithCassetteDir(dir), WithMode(ModeReplay))...)
			s.finish()
			out := s.logText()
			if tt.fail {
				out = s.errorText()
			}
			if s.Failed() != tt.fail || !strings.Contains(out, "1 recorded interactions in "+CassettePath(dir, "TestOne")+" were never requested") {
				t.Errorf("failed %v, errors %q, log %q", s.Failed(), s.errorText(), s.logText())
			}
		})
	}
}

func TestAutoReplaysWhatItHasAndAppendsTheRest(t *testing.T) {
	srv, hits := service(t)
	dir := t.TempDir()
	recordOne(t, srv, dir, "a", false)
	before := hits.Load()

	s := newSpy(t, "TestOne")
	r := Start(s, WithCassetteDir(dir), WithMode(ModeAuto), WithRealTransport(srv.Client().Transport))
	_, a := send(t, r.Client(), "GET", srv.URL+"/items/a", "")
	_, b := send(t, r.Client(), "GET", srv.URL+"/items/b", "")
	s.finish()
	if s.Failed() || hits.Load() != before+1 || !strings.Contains(a, `"a"`) || !strings.Contains(b, `"b"`) {
		t.Fatalf("auto: errors %q, %d new requests upstream, answers %s %s", s.errorText(), hits.Load()-before, a, b)
	}
	c, err := cassette.Load(CassettePath(dir, "TestOne"))
	if err != nil || len(c.Interactions) != 2 || !strings.HasSuffix(c.Interactions[1].Request.URL, "/items/b") {
		t.Fatalf("cassette after auto: %v, %d interactions", err, len(c.Interactions))
	}
}

func TestTwoRecordersOnOneCassetteAreRefused(t *testing.T) {
	srv, _ := service(t)
	dir := t.TempDir()
	recordOne(t, srv, dir, "a", false)
	first := newSpy(t, "TestOne")
	Start(first, WithCassetteDir(dir), WithMode(ModeReplay))
	_, err := start(newSpy(t, "TestOther"), []Option{WithCassette(filepath.Join(dir, "TestOne")), WithMode(ModeReplay)})
	if err == nil || !strings.Contains(err.Error(), "already in use by TestOne") {
		t.Errorf("second recorder on the same cassette: %v", err)
	}
	first.finish()
	second := newSpy(t, "TestOther")
	Start(second, WithCassette(filepath.Join(dir, "TestOne.yaml")), WithMode(ModeReplay))
	second.finish()
}

func TestUpstreamFailureIsTheClientsError(t *testing.T) {
	srv, _ := service(t)
	url := srv.URL + "/items/a"
	srv.Close()
	s := newSpy(t, "TestOne")
	r := Start(s, WithCassetteDir(t.TempDir()), WithMode(ModeRecord), WithRealTransport(srv.Client().Transport))
	_, err := r.Client().Get(url)
	if err == nil || !strings.Contains(err.Error(), "azvcr: upstream "+strings.TrimPrefix(srv.URL, "https://")+" failed") {
		t.Errorf("GET with the service gone: %v", err)
	}
	if sum := r.Summary(); sum.Recorded != 0 {
		t.Errorf("recorded %d interactions", sum.Recorded)
	}
	s.finish()
}

func TestRequestsAfterStopFail(t *testing.T) {
	srv, _ := service(t)
	dir := t.TempDir()
	recordOne(t, srv, dir, "a", false)
	s := newSpy(t, "TestOne")
	r := Start(s, WithCassetteDir(dir), WithMode(ModeReplay))
	s.finish()
	_, err := r.Client().Get(srv.URL + "/items/a")
	if err == nil || !strings.Contains(err.Error(), "after the test ended") {
		t.Errorf("request after stop: %v", err)
	}
	if s.errorText() != "" {
		t.Errorf("the stopped recorder reported on its test: %q", s.errorText())
	}
}

func TestModeFromEnv(t *testing.T) {
	for _, tt := range []struct {
		azvcr, azure string
		want         Mode
		err          string
	}{
		{"", "", ModeReplay, ""},
		{"record", "", ModeRecord, ""},
		{"REPLAY", "record", ModeReplay, ""},
		{"auto", "", ModeAuto, ""},
		{"passthrough", "", ModePassthrough, ""},
		{"", "playback", ModeReplay, ""},
		{"", "record", ModeRecord, ""},
		{"", "live", ModePassthrough, ""},
		{"recrod", "", "", "AZVCR_MODE: unknown mode \"recrod\""},
		{"", "Playbak", "", "AZURE_RECORD_MODE: unknown mode \"playbak\""},
	} {
		t.Run(tt.azvcr+"|"+tt.azure, func(t *testing.T) {
			t.Setenv(ModeEnv, tt.azvcr)
			t.Setenv(AzureModeEnv, tt.azure)
			got, err := ModeFromEnv()
			if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ModeFromEnv() = %q, %v; want %q, %q", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestBadModeFailsTheStart(t *testing.T) {
	t.Setenv(ModeEnv, "rec")
	if _, err := start(newSpy(t, "TestX"), nil); err == nil || !strings.Contains(err.Error(), "AZVCR_MODE") {
		t.Errorf("start with AZVCR_MODE=rec: %v", err)
	}
}

func TestCassettePath(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"TestOrders", "TestOrders.yaml"},
		{"TestOrders/by_region", "TestOrders/by_region.yaml"},
		{"TestOrders/a:b*c?<d>|\"e\\f", "TestOrders/a_b_c__d___e_f.yaml"},
		{"TestOrders/..", "TestOrders/_...yaml"},
		{"TestOrders/#00", "TestOrders/_00.yaml"},
		{"TestOrders/region=west,n+1", "TestOrders/region=west,n+1.yaml"},
		{"TestOrders/CON", "TestOrders/_CON.yaml"},
		{"TestOrders/héllo", "TestOrders/h__llo.yaml"},
	} {
		if got := CassettePath("testdata/cassettes", tt.name); got != filepath.Join("testdata/cassettes", tt.want) {
			t.Errorf("CassettePath(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFindConfigStopsAtTheModuleRoot(t *testing.T) {
	root := t.TempDir()
	pkg := filepath.Join(root, "mod", "internal", "pkg")
	os.MkdirAll(pkg, 0o755)
	write := func(path, data string) {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, ".azvcr.yaml"), "redact:\n  disable: [durations]\n") // outside the module
	write(filepath.Join(root, "mod", "go.mod"), "module example.com/mod\n")
	t.Chdir(pkg)
	if got := findConfig(); got != "" {
		t.Errorf("found %s outside the module", got)
	}
	write(filepath.Join(root, "mod", ".azvcr.yaml"), "redact:\n  disable: [durations]\n")
	if got := findConfig(); got != filepath.Join(root, "mod", ".azvcr.yaml") {
		t.Errorf("found %q, want the module root's", got)
	}
	r, path, err := loadRedactor(&config{})
	if err != nil || path == "" || strings.Contains(strings.Join(r.Names(), ","), "durations") {
		t.Errorf("loadRedactor: %v, %s, %v", err, path, r.Names())
	}
	write(filepath.Join(root, "mod", ".azvcr.yaml"), "redact:\n  disable: [no-such-rule]\n")
	if _, _, err := loadRedactor(&config{}); err == nil || !strings.Contains(err.Error(), ".azvcr.yaml") {
		t.Errorf("a bad config file: %v", err)
	}
}

// A record run that records nothing leaves the cassette as it was, and a failed run's
// recording is never installed by a later run.
func TestRecordingNothingKeepsTheCassette(t *testing.T) {
	srv, _ := service(t)
	dir := t.TempDir()
	path := CassettePath(dir, "TestOne")
	recordOne(t, srv, dir, "kept", false)
	recordOne(t, srv, dir, "failed", true) // leaves TestOne.yaml.recording beside it
	s := newSpy(t, "TestOne")
	Start(s, WithMode(ModeRecord), WithCassetteDir(dir), WithRealTransport(srv.Client().Transport))
	s.finish() // passes, having sent nothing
	if got := onlyBody(t, path); !strings.Contains(got, `"kept"`) {
		t.Errorf("the cassette holds %q after a run that recorded nothing", got)
	}
	if !strings.Contains(s.logText(), "recorded nothing") {
		t.Errorf("log %q", s.logText())
	}
	if _, err := os.Stat(path + recordingSuffix); !os.IsNotExist(err) {
		t.Errorf("the recording file is left behind: %v", err)
	}
}

// WithMaxBodySize bounds bodies in process as --max-body-size does in the proxy: the client
// gets an error naming the option (as azvcr's own refusals reach in-process clients).
func TestMaxBodySize(t *testing.T) {
	srv, _ := service(t)
	dir := t.TempDir()
	recordOne(t, srv, dir, "a", false)
	s := newSpy(t, "TestOne")
	r := Start(s, WithCassetteDir(dir), WithMode(ModeReplay), WithMaxBodySize(1<<10))
	_, err := r.Client().Post(srv.URL+"/items/a", "application/json", strings.NewReader(strings.Repeat("x", 4<<10)))
	if err == nil || !strings.Contains(err.Error(), "larger than 1 KiB") || !strings.Contains(err.Error(), "recorder.WithMaxBodySize") {
		t.Errorf("a body over the limit: %v", err)
	}
}
