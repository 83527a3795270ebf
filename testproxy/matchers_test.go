package testproxy

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/httpcheck"
	"github.com/azvcr/azvcr/redact"
)

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
		{name: "CustomDefaultMatcher ignoredQueryParameters", matcher: "CustomDefaultMatcher", args: `{"ignoredQueryParameters": "se"}`, // not sig: azvcr redacts it, recorded and live alike
			rec:    tpInteraction("GET", tpARM+"/blob?x=1&se=recorded", "", 200, `{"matched":true}`),
			method: "GET", target: "/blob?x=1&se=live-expiry",
			stillMiss: "/blob?x=2&se=live-expiry"},
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
