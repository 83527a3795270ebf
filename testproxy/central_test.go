package testproxy

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/httpcheck"
	"github.com/azvcr/azvcr/redact"
)

// The central set is test-proxy's: 153 ids in its order, each a class it names.
func TestCentralSanitizerTable(t *testing.T) {
	kinds := map[string]int{}
	seen := map[string]bool{}
	for _, c := range centralSanitizers {
		if seen[c.id] || !strings.HasPrefix(c.id, "AZSDK") || len(c.id) != 9 {
			t.Errorf("id %q repeated or malformed", c.id)
		}
		seen[c.id] = true
		kinds[c.kind]++
	}
	want := map[string]int{"RecordedTestSanitizer": 1, "GeneralRegexSanitizer": 9, "HeaderRegexSanitizer": 31,
		"BodyRegexSanitizer": 12, "BodyKeySanitizer": 96, "UriRegexSanitizer": 2, "RemoveHeaderSanitizer": 2}
	if len(centralSanitizers) != 153 || !mapsEqual(kinds, want) {
		t.Errorf("%d central sanitizers by class %v, want 153 as %v", len(centralSanitizers), kinds, want)
	}
	if !slices.IsSortedFunc(centralSanitizers, func(a, b centralSanitizer) int { return strings.Compare(a.id, b.id) }) {
		t.Error("central sanitizers are not in id order, the order test-proxy applies them in")
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// One exchange per id family: what the central set makes of it in a recording (as written at
// /Record/Stop and as loaded for playback), and that a live request with other secret values
// still matches the recording, because both sides go through the same sanitizers.
func TestCentralSanitizersByFamily(t *testing.T) {
	const guid = "6f2b4a51-93c4-4a0e-9b1d-2c7f0d8e1a3b"
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	js := http.Header{"Content-Type": {"application/json"}}
	with := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	cases := []struct {
		family      string
		recorded    cassette.Interaction
		check       func(t *testing.T, it *cassette.Interaction)
		liveURL     string
		liveHeaders []string
		liveBody    string
	}{
		{
			family:   "AZSDK0000 Authorization",
			recorded: tpExchange("GET", "https://Sanitized.azure.com/a", http.Header{"Authorization": {"Bearer recorded-token"}}, "", nil, ""),
			check: func(t *testing.T, it *cassette.Interaction) {
				expectEqual(t, "Authorization", it.Request.Headers.Get("Authorization"), "Sanitized")
			},
			liveURL: "https://management.azure.com/a", liveHeaders: []string{"Authorization", "Bearer live-token"},
		},
		{
			family:   "AZSDK1xxx general: connection-string keys and SAS signatures everywhere",
			recorded: tpExchange("GET", "https://acct.blob.core.windows.net/c?sv=2020-01-01&sig=recorded%3D", nil, "", http.Header{"Content-Type": {"text/plain"}}, "AccountEndpoint=https://x/;AccountKey=c2VjcmV0;"),
			check: func(t *testing.T, it *cassette.Interaction) {
				expectEqual(t, "URI", it.Request.URL, "https://Sanitized.blob.core.windows.net/c?sv=Sanitized&sig=Sanitized")
				expectEqual(t, "body", it.Response.Body, "AccountEndpoint=https://x/;AccountKey=MA==;")
			},
			liveURL: "https://live.blob.core.windows.net/c?sv=2021-02-02&sig=live%3D",
		},
		{
			family: "AZSDK2xxx headers",
			recorded: tpExchange("GET", "https://Sanitized.azure.com/b", http.Header{"Ocp-Apim-Subscription-Key": {"recorded-key"}},
				"", http.Header{"X-Ms-Request-Id": {guid}, "Location": {"https://management.azure.com/op"}, "Set-Cookie": {"fpc=abc"}}, ""),
			check: func(t *testing.T, it *cassette.Interaction) {
				expectEqual(t, "request key", it.Request.Headers.Get("Ocp-Apim-Subscription-Key"), "Sanitized")
				expectEqual(t, "x-ms-request-id", it.Response.Headers.Get("X-Ms-Request-Id"), "Sanitized")
				expectEqual(t, "Location", it.Response.Headers.Get("Location"), "https://example.com")
				expectEqual(t, "Set-Cookie", it.Response.Headers.Get("Set-Cookie"), "Sanitized")
			},
			liveURL: "https://management.azure.com/b", liveHeaders: []string{"Ocp-Apim-Subscription-Key", "live-key"},
		},
		{
			family:   "AZSDK30xx body regexes: form fields",
			recorded: tpExchange("POST", "https://login.microsoftonline.com/t/oauth2/v2.0/token", form, "client_id=app&client_secret=recorded~secret&grant_type=client_credentials", nil, ""),
			check: func(t *testing.T, it *cassette.Interaction) {
				expectEqual(t, "form", it.Request.Body, "client_id=Sanitized&client_secret=Sanitized&grant_type=client_credentials")
			},
			liveURL: "https://login.microsoftonline.com/t/oauth2/v2.0/token", liveHeaders: []string{"Content-Type", "application/x-www-form-urlencoded"},
			liveBody: "client_id=app2&client_secret=live~secret&grant_type=client_credentials",
		},
		{
			family: "AZSDK34xx JSON paths",
			recorded: tpExchange("POST", "https://Sanitized.azure.com/listKeys", js, `{"password":"recorded"}`, js,
				`{"primaryMasterKey":"a2V5","properties":{"tenantId":"`+guid+`","locations":[{"locationName":"West US"}]}}`),
			check: func(t *testing.T, it *cassette.Interaction) {
				expectEqual(t, "request body", it.Request.Body, `{"password":"Sanitized"}`)
				expectEqual(t, "response body", it.Response.Body, `{"primaryMasterKey":"Sanitized","properties":{"tenantId":"`+redact.ZeroGUID+`","locations":[{"locationName":"West US"}]}}`)
			},
			liveURL: "https://management.azure.com/listKeys", liveHeaders: []string{"Content-Type", "application/json"}, liveBody: `{"password": "live"}`,
		},
		{
			family:   "AZSDK4xxx URI host and removed headers",
			recorded: tpExchange("GET", "https://myacct.documents.azure.com/dbs", nil, "", http.Header{"Telemetry-Source-Time": {"t"}, "Message-Id": {"m"}}, ""),
			check: func(t *testing.T, it *cassette.Interaction) {
				expectEqual(t, "URI", it.Request.URL, "https://Sanitized.documents.azure.com/dbs")
				if len(it.Response.Headers) != 0 {
					t.Errorf("response headers %v, want Telemetry-Source-Time and Message-Id removed", it.Response.Headers)
				}
			},
			liveURL: "https://otheracct.documents.azure.com/dbs",
		},
	}
	for _, c := range cases {
		t.Run(c.family, func(t *testing.T) {
			p := newTPServer(t)
			// The recorded entry, as the central set leaves it.
			it := c.recorded
			it.Request.Headers, it.Response.Headers = with(it.Request.Headers), with(it.Response.Headers)
			sanitizeRecording(p.s.reg.resolve(p.s.reg.serverList()), []*cassette.Interaction{&it})
			c.check(t, &it)

			// The raw entry played back: a live request with other values matches, and the answer
			// is the sanitized recording.
			raw := c.recorded
			raw.Request.Headers = with(raw.Request.Headers, "Accept", "application/json", "Accept-Encoding", "gzip", "User-Agent", "Go-http-client/1.1")
			if raw.Request.Headers.Get("Authorization") == "" {
				raw.Request.Headers.Set("Authorization", "Bearer recorded-token")
			}
			raw.Response.Code = 200
			if c.liveBody != "" {
				raw.Request.Headers.Set("Content-Length", "1")
			}
			p.writeRecording("F.json", nil, &raw)
			id, _ := p.startPlayback("F.json")
			scheme, rest, _ := strings.Cut(c.liveURL, "://")
			host, target, _ := strings.Cut(rest, "/")
			headers := append([]string{"Authorization", "Bearer other"}, c.liveHeaders...)
			r := p.send(id, "playback", scheme+"://"+host, raw.Request.Method, "/"+target, c.liveBody, headers...)
			if r.Code != 200 {
				t.Fatalf("live request: %d %s", r.Code, r.Body)
			}
			if it.Response.Body != "" && r.Body != it.Response.Body {
				t.Errorf("answer %q, want the sanitized recording %q", r.Body, it.Response.Body)
			}
		})
	}
}

func tpExchange(method, url string, reqH http.Header, reqBody string, respH http.Header, respBody string) cassette.Interaction {
	if reqH == nil {
		reqH = http.Header{}
	}
	if respH == nil {
		respH = http.Header{}
	}
	return cassette.Interaction{Request: cassette.Request{Method: method, URL: url, Headers: reqH, Body: reqBody},
		Response: cassette.Response{Headers: respH, Body: respBody}}
}

func expectEqual(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %q, want %q", what, got, want)
	}
}

func listedIDs(t *testing.T, p *tpClient, headers ...string) []string {
	t.Helper()
	r := httpcheck.Do(t, p.c, "GET", p.base+"/Admin/GetSanitizers", "", headers...)
	var got struct {
		Sanitizers []struct {
			ID          string         `json:"Id"`
			Sanitizer   map[string]any `json:"Sanitizer"`
			Description any            `json:"Description"`
		}
	}
	if r.Code != 200 || json.Unmarshal([]byte(r.Body), &got) != nil {
		t.Fatalf("GetSanitizers: %d %s", r.Code, r.Body)
	}
	var ids []string
	for _, s := range got.Sanitizers {
		if s.Sanitizer["Name"] == nil {
			t.Errorf("GetSanitizers: %s has no class name", s.ID)
		}
		ids = append(ids, s.ID)
	}
	return ids
}

// Each session starts with a copy of the server-wide list; removal by id is server-wide or per
// session, GetSanitizers lists either, and Reset restores the central set.
func TestCentralSanitizersPerSessionSnapshot(t *testing.T) {
	p := newTPServer(t)
	all := listedIDs(t, p)
	if len(all) != 153 || all[0] != "AZSDK0000" || all[152] != "AZSDK4004" {
		t.Fatalf("server-wide list: %d ids %v..., want the 153 central ones in order", len(all), all[:3])
	}
	p.writeRecording("S.json", nil, tpInteraction("GET", tpARM+"/s", "", 200, `{"name":"kept"}`))
	a, _ := p.startPlayback("S.json")
	b, _ := p.startPlayback("S.json")
	r := p.mustAdmin("/Admin/RemoveSanitizers", `{"Sanitizers":["AZSDK2003","AZSDK3493","not-an-id"]}`, "X-Recording-Id", a)
	expectEqual(t, "removed", r.Body, `{"Removed":["AZSDK2003","AZSDK3493"]}`+"\n")
	if ids := listedIDs(t, p, "X-Recording-Id", a); len(ids) != 151 || slices.Contains(ids, "AZSDK3493") {
		t.Errorf("session A lists %d ids", len(ids))
	}
	if ids := listedIDs(t, p, "X-Recording-Id", b); len(ids) != 153 {
		t.Errorf("session B lists %d ids, want all 153", len(ids))
	}
	httpcheck.Expect(t, "A keeps names", p.send(a, "playback", tpARM, "GET", "/s", ""), 200, `{"name":"kept"}`)
	httpcheck.Expect(t, "B sanitizes names", p.send(b, "playback", tpARM, "GET", "/s", ""), 200, `{"name":"Sanitized"}`)
	expectKnownError(t, "removal for an unknown session", p.admin("/Admin/RemoveSanitizers", `{"Sanitizers":["AZSDK2003"]}`, "X-Recording-Id", "nope"), http.StatusBadRequest)

	// Server-wide: a session started later starts without it; Reset is refused while sessions
	// are active, then restores the central set.
	p.mustAdmin("/Admin/RemoveSanitizers", `{"Sanitizers":["AZSDK3493"]}`)
	c, _ := p.startPlayback("S.json")
	httpcheck.Expect(t, "a later session", p.send(c, "playback", tpARM, "GET", "/s", ""), 200, `{"name":"kept"}`)
	expectKnownError(t, "Reset with active sessions", p.admin("/Admin/Reset", ""), http.StatusBadRequest)
	for _, id := range []string{a, b, c} {
		p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)
	}
	p.mustAdmin("/Admin/Reset", "")
	if ids := listedIDs(t, p); len(ids) != 153 {
		t.Errorf("after Reset: %d ids, want 153", len(ids))
	}
}

func TestCentralSanitizersDisabled(t *testing.T) {
	t.Setenv(disableDefaultsEnv, "True")
	p := newTPServer(t)
	if ids := listedIDs(t, p); len(ids) != 0 {
		t.Errorf("%s=True: %d sanitizers listed, want none", disableDefaultsEnv, len(ids))
	}
	r := p.mustAdmin("/Admin/RemoveSanitizers", `{"Sanitizers":["AZSDK2003"]}`)
	expectEqual(t, "removed", r.Body, `{"Removed":[]}`+"\n")
	r = p.mustAdmin("/Admin/AddSanitizer", `{"key":"x-secret"}`, "X-Abstraction-Identifier", "HeaderRegexSanitizer")
	if ids := listedIDs(t, p); len(ids) != 1 || !strings.Contains(r.Body, ids[0]) {
		t.Errorf("added sanitizer listed as %v (add answered %s)", ids, r.Body)
	}
	p.mustAdmin("/Admin/Reset", "")
	if ids := listedIDs(t, p); len(ids) != 0 {
		t.Errorf("after Reset: %v, want none", ids)
	}
}

func TestCentralSanitizersLeftOut(t *testing.T) {
	t.Setenv(removeDefaultsEnv, "AZSDK3493, AZSDK2003")
	p := newTPServer(t)
	ids := listedIDs(t, p)
	if len(ids) != 151 || slices.Contains(ids, "AZSDK3493") || slices.Contains(ids, "AZSDK2003") {
		t.Errorf("%s: %d ids listed", removeDefaultsEnv, len(ids))
	}
	p.mustAdmin("/Admin/Reset", "")
	if ids := listedIDs(t, p); len(ids) != 151 {
		t.Errorf("after Reset: %d ids, want the 151 left", len(ids))
	}
}
