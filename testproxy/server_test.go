package testproxy

// Tests of the Azure SDK test-proxy protocol, driven over real HTTP the way the
// Go harness (sdk/internal/recording, sdk/resourcemanager/internal/testutil) drives Microsoft's
// proxy: admin calls to /Record/Start, /Playback/Start, /Admin/AddSanitizer..., and proxied
// traffic sent straight to the proxy with x-recording-id, x-recording-mode and
// x-recording-upstream-base-uri.

import (
	"crypto/tls"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/azvcr/azvcr/internal/httpcheck"
	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/testproxyjson"
)

// ---- 1, 2: record a session to a file, then play it back ----

func TestTestProxyRecordThenPlayback(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))

	// A harness's own sanitizer, server-wide (as envSetupForPlayback adds one): the subscription
	// id, which no central sanitizer covers.
	p.mustAdmin("/Admin/AddSanitizer", `{"target":"`+tpSub+`","value":"`+redact.ZeroGUID+`"}`, "X-Abstraction-Identifier", "GeneralStringSanitizer")
	// /Record/Start names the file relative to the storage root; the session keeps names and ids
	// in bodies, as the JS harness asks with removeCentralSanitizers.
	id := p.startRecord("sub/dir/Test1.json")
	p.mustAdmin("/Admin/RemoveSanitizers", `{"Sanitizers":["AZSDK3493","AZSDK3430"]}`, "X-Recording-Id", id)

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
	// The session is gone: stopping it again does nothing, as in test-proxy.
	p.mustAdmin("/Record/Stop", "", "X-Recording-Id", id)

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
	// AZSDK4001 replaces the first label of the host, the harness's sanitizer the subscription.
	redactedURI := func(target string) string {
		return strings.Replace(up.URL, "127.", "Sanitized.", 1) + strings.Replace(target, tpSub, redact.ZeroGUID, 1)
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
		if got := it.Request.Headers.Get("Authorization"); got != "Sanitized" {
			t.Errorf("entry %d: Authorization %q, want Sanitized (AZSDK0000)", i, got)
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
	p.mustAdmin("/Admin/RemoveSanitizers", `{"Sanitizers":["AZSDK3493","AZSDK3430"]}`, "X-Recording-Id", pid)
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
		{"encoded path and query", "GET", tpListTarget, "", nil, 200, tpListAnswer},
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
	httpsC.keepNamesAndIDs()
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
