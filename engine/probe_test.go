package engine

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/redact"
)

// opaqueRule is a rule redact cannot see into: with it, no header is left out of the probe, and
// every live request is redacted whole, as before the probe existed.
type opaqueRule struct{}

func (opaqueRule) Name() string                      { return "opaque" }
func (opaqueRule) RedactRequest(*cassette.Request)   {}
func (opaqueRule) RedactResponse(*cassette.Response) {}

// liveRequest is a recorded request as a face hands it to Handle.
func liveRequest(t testing.TB, r cassette.Request) *http.Request {
	t.Helper()
	req, err := http.NewRequest(r.Method, r.URL, strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = r.Headers.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if r.Host != "" {
		req.Host = r.Host
	}
	return req
}

// compareProbes replays requests, in order, through two engines over the same recordings: one
// that leaves out of its probes the headers matching does not read, one that redacts each
// request whole. Every answer must be the same: status, body, miss explanation. It returns how
// many were hits. Each engine has its own rules (azure-ids learns per session).
func compareProbes(t testing.TB, recorded []*cassette.Interaction, rules func() redact.Redactor, live []cassette.Request) int {
	t.Helper()
	if rules().Omittable() == nil {
		t.Fatal("these rules leave no header out: nothing to compare")
	}
	open := func(r redact.Redactor) *Engine {
		x, err := matcher.New(recorded)
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(Replay, WithIndex(x), WithRedactor(r))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	fast, whole := open(rules()), open(append(redact.Redactor{opaqueRule{}}, rules()...))
	hits := 0
	for i, r := range live {
		a, b := fast.Handle(liveRequest(t, r)), whole.Handle(liveRequest(t, r))
		ab, _ := io.ReadAll(a.Body)
		bb, _ := io.ReadAll(b.Body)
		if a.StatusCode != b.StatusCode || string(ab) != string(bb) || a.Header.Get(MissHeader) != b.Header.Get(MissHeader) {
			t.Errorf("request %d (%s %s): the probe is answered %d %q %s, the whole request %d %q %s", i, r.Method, r.URL,
				a.StatusCode, a.Header.Get(MissHeader), ab, b.StatusCode, b.Header.Get(MissHeader), bb)
		}
		if a.StatusCode != MissStatus {
			hits++
		}
	}
	return hits
}

// Replay answers alike whether the live request is redacted whole or only as far as matching
// needs: hits, misses and what a miss says, over requests that differ from the recordings in
// what matching reads and in what it does not.
func TestProbeAnswersAsTheWholeRequest(t *testing.T) {
	const sub = "6f2b4a51-93c4-4a0e-9b1d-2c7f0d8e1a3b"
	auth := url.QueryEscape("type=master&ver=1.0&sig=K2l4bW9yZXNlY3JldHNpZ25hdHVyZXNsb25nZW5vdWdo")
	base := "https://acct.documents.azure.com/dbs/db1/colls/c1/docs"
	mk := func(method, u, body string, h http.Header) cassette.Request {
		return cassette.Request{Method: method, URL: u, Body: body, Headers: h, Host: "acct.documents.azure.com"}
	}
	live := []cassette.Request{
		mk("GET", base+"/item-1", "", http.Header{"Authorization": {auth}, "X-Ms-Documentdb-Partitionkey": {`["a"]`}, "X-Ms-Date": {"Thu, 13 Nov 2025 10:00:00 GMT"}}),
		mk("POST", base, `{"query":"SELECT * FROM c WHERE c.n = @n","parameters":[{"name":"@n","value":1}]}`,
			http.Header{"Content-Type": {"application/query+json"}, "X-Ms-Documentdb-Isquery": {"True"}, "Authorization": {auth}}),
		mk("GET", "https://management.azure.com/subscriptions/"+sub+"/resourceGroups/rg?api-version=1", "",
			http.Header{"Authorization": {"Bearer eyJ0eXAiOiJKV1QifQ.eyJ0aWQiOiJ4In0.c2lnbmF0dXJl"}, "X-Ms-Client-Request-Id": {sub}}),
		mk("PUT", base+"/"+sub, `{"id":"`+sub+`","password":"Zq8vL2mPx7RtW4kY9hNc"}`,
			http.Header{"Content-Type": {"application/json"}, "Referer": {"https://portal/subscriptions/" + sub}, "Prefer": {"return=minimal"}}),
	}
	rules := redact.DefaultRules()
	var recorded []*cassette.Interaction
	for i, r := range live {
		it := &cassette.Interaction{ID: i, Request: r, Response: cassette.Response{Code: 200, Status: "200 OK", Body: `{"n":` + string(rune('0'+i)) + `}`}}
		it.Request.Headers = r.Headers.Clone()
		rules.Interaction(it)
		recorded = append(recorded, it)
	}
	// The same requests again, with other credentials and dates (hits), then with what
	// matching reads changed (misses).
	again := append([]cassette.Request{}, live...)
	for i := range again {
		again[i].Headers = again[i].Headers.Clone()
		if again[i].Headers.Get("Authorization") != "" {
			again[i].Headers.Set("Authorization", url.QueryEscape("type=master&ver=1.0&sig=b3RoZXJzaWduYXR1cmVvdGhlcnNpZ25hdHVyZQ"))
		}
		again[i].Headers.Set("X-Ms-Date", "Fri, 14 Nov 2025 11:00:00 GMT")
	}
	changed := []cassette.Request{
		mk("GET", base+"/item-1", "", http.Header{"Authorization": {auth}, "X-Ms-Documentdb-Partitionkey": {`["b"]`}}),
		mk("POST", base, `{"query":"SELECT * FROM c WHERE c.n = @n","parameters":[{"name":"@n","value":2}]}`,
			http.Header{"Content-Type": {"application/query+json"}, "X-Ms-Documentdb-Isquery": {"True"}}),
	}
	requests := append(append(again, changed...), live...) // the last ones find their recordings used
	hits := compareProbes(t, recorded, redact.DefaultRules, requests)
	if hits != len(again) {
		t.Errorf("%d hits, want %d (the test compares too little)", hits, len(again))
	}
}

// matchProbeByDeleting is matchProbe as first written, copying every header it keeps and then
// deleting the hop-by-hop ones: the reference the one that skips them is held to.
func matchProbeByDeleting(r *http.Request, body string, reads func(string) bool, omittable func(string, []string) bool) cassette.Request {
	h := make(http.Header, 4)
	for k, v := range r.Header {
		if reads(http.CanonicalHeaderKey(k)) || !omittable(k, v) {
			h[k] = append([]string(nil), v...)
		}
	}
	dropHopHeaders(h, r.Header)
	return requestWith(r, body, h)
}

// TestMatchProbeDropsHopHeadersAsBefore: hop-by-hop headers, those a Connection header names
// (significant ones among them), and names in other spellings, whatever the rules keep.
func TestMatchProbeDropsHopHeadersAsBefore(t *testing.T) {
	headers := []http.Header{
		{"X-Ms-Documentdb-Partitionkey": {`["a"]`}, "Authorization": {"x"}},
		{"Connection": {"keep-alive"}, "Keep-Alive": {"5"}, "Te": {"trailers"}, "X-Ms-Max-Item-Count": {"2"}},
		{"Connection": {"X-Ms-Continuation, close"}, "X-Ms-Continuation": {"tok"}, "Prefer": {"x"}},
		{"Connection": {"", "Prefer"}, "Prefer": {"x"}, "Upgrade": {"h2c"}},
		{"connection": {"Prefer"}, "Prefer": {"x"}, "transfer-encoding": {"chunked"}, "proxy-authorization": {"Basic x"}},
		{"Proxy-Connection": {"keep-alive"}, "Proxy-Authenticate": {"x"}, "Trailer": {"X"}, "Transfer-Encoding": {"chunked"}, "Content-Type": {"application/json"}},
	}
	rules := []func(string, []string) bool{
		func(string, []string) bool { return true },  // every header may be left out
		func(string, []string) bool { return false }, // none may
	}
	x, err := matcher.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	reads := x.HeaderReads()
	for i, h := range headers {
		for j, omittable := range rules {
			r := httptest.NewRequest("GET", "https://acct.documents.azure.com/dbs/db", nil)
			r.Header = h.Clone()
			got := matchProbe(r, "", reads, omittable)
			want := matchProbeByDeleting(r, "", reads, omittable)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("headers %d, rules %d: probe %v, want %v", i, j, got.Headers, want.Headers)
			}
		}
	}
}
