package testproxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
)

// sanitizeOneByOne is sanitizeRecording as first written: each sanitizer over the whole
// recording in turn. The exchange-by-exchange one is held to it.
func sanitizeOneByOne(sans []*registered, its []*cassette.Interaction) []*cassette.Interaction {
	o := redact.SanitizeOptions{Bodies: true, IsText: sanitizable}
	for _, r := range sans {
		its = r.san.recording(its, o)
	}
	return its
}

func custom(t *testing.T, kind string, args map[string]any) *registered {
	t.Helper()
	a := ctorArgs{}
	for k, v := range args {
		a[k], _ = json.Marshal(v)
	}
	san, err := newSanitizer(kind, a)
	if err != nil {
		t.Fatal(err)
	}
	return &registered{id: kind, kind: kind, san: san}
}

// varied is a recording whose exchanges give each sanitizer something to do and to miss.
func varied() []*cassette.Interaction {
	bodies := []string{
		`{"id":"a","name":"n","properties":{"primaryKey":"k","connectionString":"AccountKey=abc;x","etag":"e"}}`,
		`{"value":[{"key":"k1"},{"key":"k2","token":"t"}],"access_token":"tok","\u0069d":"escaped"}`,
		`{"id":1,"ok":true,"nested":{"password":null,"clientId":"c","sasUri":"https://x?sig=abc&sv=1"}}`,
		`client_id=c&client_secret=s&token=t`,
		`<UserDelegationKey><SignedOid>o</SignedOid><Value>v</Value></UserDelegationKey><PrimaryKey>p</PrimaryKey>`,
		`not json {"id": "x"`, `"just a string"`, `{"a":1}{"id":"two values"}`, "",
		"-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n",
		`{"Password=p;":"User ID=u;","renamed":"v"}`, `{"pa55word":"secret","n":1}`,
	}
	types := []string{"application/json", "text/plain; charset=utf-8", "application/octet-stream", "", "application/x-www-form-urlencoded", "Application/JSON"}
	var its []*cassette.Interaction
	for i, b := range bodies {
		for j, ct := range types {
			method := []string{"GET", "POST", "HEAD", "PUT"}[(i+j)%4]
			req := http.Header{"Authorization": {"Bearer x"}, "X-Ms-Client-Request-Id": {"c"}, "Cookie": {"a=b"}, "Coo\u212aie": {"kelvin"}, "x-ms-client-request-id": {"d"}}
			resp := http.Header{"X-Ms-Request-Id": {"r"}, "Location": {"https://acct.documents.azure.com/x?sig=s"}, "Content-Length": {fmt.Sprint(len(b))}, "Message-Id": {"m"}}
			if ct != "" {
				req["Content-Type"] = []string{ct}
				resp["Content-Type"] = []string{ct}
			}
			if j%2 == 1 {
				resp["content-type"] = resp["Content-Type"]
				delete(resp, "Content-Type")
			}
			its = append(its, &cassette.Interaction{
				Request: cassette.Request{Method: method, URL: fmt.Sprintf("https://acct%d.documents.azure.com/dbs/d?sig=abc&n=%d", i, j),
					Headers: req, Body: b},
				Response: cassette.Response{Code: 200, Headers: resp, Body: strings.ReplaceAll(b, "k", "K")},
			})
		}
	}
	return its
}

func deepCopy(its []*cassette.Interaction) []*cassette.Interaction {
	out := make([]*cassette.Interaction, len(its))
	for i, it := range its {
		out[i] = cloneInteraction(it)
	}
	return out
}

// changingSanitizers change what later sanitizers depend on: the Content-Type, a body's keys,
// a body's text; changers[3] renames a key in place.
func changingSanitizers(t *testing.T) []*registered {
	return []*registered{
		custom(t, "HeaderRegexSanitizer", map[string]any{"key": "Content-Type", "regex": "json", "value": "octet-stream"}),
		custom(t, "BodyRegexSanitizer", map[string]any{"regex": `"renamed"`, "value": `"primaryKey"`}),
		custom(t, "BodyStringSanitizer", map[string]any{"target": "K", "value": "kk"}),
		custom(t, "BodyStringSanitizer", map[string]any{"target": "pa55word", "value": "password"}), // the same length
		custom(t, "RemoveHeaderSanitizer", map[string]any{"headersForRemoval": "content-type", "condition": map[string]string{"uriRegex": `acct[12]\.documents`}}),
		custom(t, "GeneralRegexSanitizer", map[string]any{"regex": "text/plain", "value": "application/json"}),
	}
}

// Sanitizing exchange by exchange, on several cores, edits a recording as sanitizing sanitizer
// by sanitizer does: with test-proxy's central list, and with sanitizers that change what
// later ones depend on (the Content-Type, a body's keys) or work on the whole recording.
func TestSanitizeRecordingAsOneByOne(t *testing.T) {
	g := newRegistry()
	central := g.resolve(g.serverList())
	changers := append(changingSanitizers(t), custom(t, "RegexEntrySanitizer", map[string]any{"target": "uri", "regex": "acct3"}))
	lists := map[string][]*registered{
		"central":                 central,
		"changers then central":   append(append([]*registered{}, changers...), central...),
		"central around changers": append(append(append([]*registered{}, central[:70]...), changers...), central[70:]...),
		"a key renamed in place":  append(append(append([]*registered{}, central[:70]...), changers[3]), central[70:]...),
	}
	for name, sans := range lists {
		t.Run(name, func(t *testing.T) {
			base := varied()
			for len(base) < 200 { // enough exchanges for the cores to share
				base = append(base, deepCopy(base)...)
			}
			want := sanitizeOneByOne(sans, deepCopy(base))
			got := sanitizeRecording(sans, deepCopy(base))
			if len(got) != len(want) {
				t.Fatalf("%d exchanges, want %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("exchange %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
			}
			// Live requests: the rule over the request alone.
			for i, it := range base[:len(varied())] {
				a, b := it.Request, it.Request
				a.Headers, b.Headers = it.Request.Headers.Clone(), it.Request.Headers.Clone()
				requestRule{plan: compilePlan(sans), bodies: true}.RedactRequest(&a)
				oneByOne := &cassette.Interaction{Request: b, Response: cassette.Response{Headers: http.Header{}}}
				for _, r := range sans {
					r.san.entry(oneByOne, redact.SanitizeOptions{Bodies: true, IsText: sanitizable})
				}
				if !reflect.DeepEqual(a, oneByOne.Request) {
					t.Errorf("live request %d:\n got %+v\nwant %+v", i, a, oneByOne.Request)
				}
			}
		})
	}
}

// assertAsOneByOne sanitizes copies of its with the compiled plan and one sanitizer at a time,
// and live requests (their request alone) both ways, and reports every difference.
func assertAsOneByOne(t *testing.T, sans []*registered, its []*cassette.Interaction) {
	t.Helper()
	want := sanitizeOneByOne(sans, deepCopy(its))
	got := compilePlan(sans).Recording(deepCopy(its))
	if len(got) != len(want) {
		t.Fatalf("%d exchanges, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("exchange %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	for i, it := range its {
		for _, bodies := range []bool{false, true} {
			a, b := it.Request, it.Request
			a.Headers, b.Headers = it.Request.Headers.Clone(), it.Request.Headers.Clone()
			requestRule{plan: compilePlan(sans), bodies: bodies}.RedactRequest(&a)
			oneByOne := &cassette.Interaction{Request: b, Response: cassette.Response{Headers: http.Header{}}}
			if oneByOne.Request.Headers == nil {
				oneByOne.Request.Headers = http.Header{}
			}
			for _, r := range sans {
				r.san.entry(oneByOne, redact.SanitizeOptions{Bodies: bodies, IsText: sanitizable})
			}
			if !reflect.DeepEqual(a, oneByOne.Request) {
				t.Errorf("live request %d (bodies %v):\n got %+v\nwant %+v", i, bodies, a, oneByOne.Request)
			}
		}
	}
}

// The compiled plan edits realistic entries (testdata/bench-entries.json) as the sanitizers one
// by one do: the central list, and the central list with a harness's sanitizers around it.
func TestRealisticEntriesSanitizeAsOneByOne(t *testing.T) {
	g := newRegistry()
	central := g.resolve(g.serverList())
	harness := []*registered{
		custom(t, "BodyKeySanitizer", map[string]any{"jsonPath": "$..description", "value": "d"}),
		custom(t, "BodyKeySanitizer", map[string]any{"jsonPath": "$.properties.documentEndpoint", "regex": `https://(?<a>[^.]+)`, "groupForReplace": "a"}),
		custom(t, "BodyKeySanitizer", map[string]any{"jsonPath": "$..n"}),
		custom(t, "BodyKeySanitizer", map[string]any{"jsonPath": "$..enableAutomaticFailover", "regex": "False", "value": "off"}),
		custom(t, "BodyKeySanitizer", map[string]any{"jsonPath": "$.Documents[*]._self", "regex": "docs", "value": "documents"}),
		custom(t, "HeaderRegexSanitizer", map[string]any{"key": "x-ms-session-token", "regex": `#(?<lsn>\d+)`, "groupForReplace": "lsn", "value": "0"}),
		custom(t, "HeaderRegexSanitizer", map[string]any{"key": "Content-Type", "regex": "query\\+", "value": ""}),
		custom(t, "HeaderStringSanitizer", map[string]any{"key": "User-Agent", "target": "go1.26.8", "value": "go"}),
		custom(t, "UriRegexSanitizer", map[string]any{"regex": `(?<=/docs/)(?<item>[^/?]+)`, "groupForReplace": "item", "value": "item"}),
		custom(t, "GeneralRegexSanitizer", map[string]any{"regex": `(?<=acct-)\d+`, "value": "N"}),
		custom(t, "ContinuationSanitizer", map[string]any{"key": "x-ms-continuation", "method": "guid"}),
		custom(t, "BodyKeySanitizer", map[string]any{"jsonPath": "$..['a/b']"}),
	}
	entries := benchEntries(t)
	for name, sans := range map[string][]*registered{
		"central":              central,
		"harness then central": append(slices.Clone(harness), central...),
		"central then harness": append(slices.Clone(central), harness...),
		"interleaved":          append(append(append(slices.Clone(central[:60]), harness...), central[60:]...), harness[:5]...),
	} {
		t.Run(name, func(t *testing.T) { assertAsOneByOne(t, sans, entries) })
	}
	// Something is sanitized in every entry: the comparison is not of untouched copies.
	its := compilePlan(central).Recording(deepCopy(entries))
	for i, it := range its {
		if reflect.DeepEqual(it, entries[i]) {
			t.Errorf("entry %d unchanged by the central sanitizers", i)
		}
	}
}

// FuzzCentralSanitizers: the compiled central list (and a harness's key sanitizers after it)
// edits any body, URI and header value as the sanitizers one by one do.
func FuzzCentralSanitizers(f *testing.F) {
	for _, it := range realisticEntries() {
		f.Add(it.Request.URL, it.Response.Body, "application/json")
	}
	f.Add("https://a/b?sig=x&sv=y", `{"a\/b":"v","id":1,"name":[true,null,{"name":false}],"x":{"token":"t\u00e9"}}`, "text/plain")
	f.Add("http://\xff.x/", "{\"id\":\"\xff\",\"name\":\"a\\nb\"}", "application/json")
	g := newRegistry()
	sans := append(g.resolve(g.serverList()),
		&registered{id: "k", san: mustEntry(redact.Sanitizer{Kind: "BodyKeySanitizer", Parts: redact.PartBody, JSONPath: "$..['a/b']", Regex: ".+", Value: "S"})},
		&registered{id: "v", san: mustEntry(redact.Sanitizer{Kind: "BodyKeySanitizer", Parts: redact.PartBody, JSONPath: "$..x.token", Regex: "t", Value: "T\""})},
		&registered{id: "l", san: mustEntry(redact.Sanitizer{Kind: "BodyKeySanitizer", Parts: redact.PartBody, JSONPath: "$..name", Regex: "(?<v>a)", Group: "v", Value: "bb"})})
	p := compilePlan(sans)
	f.Fuzz(func(t *testing.T, url, body, contentType string) {
		mk := func() *cassette.Interaction {
			return &cassette.Interaction{
				Request: cassette.Request{Method: "POST", URL: url, Body: body,
					Headers: http.Header{"Content-Type": {contentType}, "Location": {url}, "X-Value": {body}, "Content-Length": {"1"}}},
				Response: cassette.Response{Code: 200, Body: body,
					Headers: http.Header{"Content-Type": {contentType}, "Operation-Location": {body}, "Content-Length": {"1"}}},
			}
		}
		want := sanitizeOneByOne(sans, []*cassette.Interaction{mk()})
		got := p.Recording([]*cassette.Interaction{mk()})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got\n%+v\nwant\n%+v", got[0], want[0])
		}
	})
}

func mustEntry(s redact.Sanitizer) sanitizer {
	san, err := newEntrySanitizer(s)
	if err != nil {
		panic(err)
	}
	return san
}

// A playback session sanitizes its recording's requests up front and each response when it is
// first served (plan.Deferred): the requests it matches on are those the whole pass makes, and
// every exchange served is the one the whole pass makes. A plan that cannot be split so (a
// sanitizer on the whole recording, or one whose condition reads the response) is not split.
func TestDeferredAsWhole(t *testing.T) {
	g := newRegistry()
	central := g.resolve(g.serverList())
	changers := append(changingSanitizers(t),
		custom(t, "UriRegexSanitizer", map[string]any{"regex": `acct(?<n>[0-9])`, "value": "account", "groupForReplace": "n"}),
		custom(t, "HeaderRegexSanitizer", map[string]any{"key": "x-ms-version", "regex": "20", "value": "2020"}), // edits what it made: run twice, it shows
	)
	onWhole := custom(t, "RegexEntrySanitizer", map[string]any{"target": "uri", "regex": "acct3"})
	onResponse := custom(t, "HeaderRegexSanitizer", map[string]any{"key": "x-ms-version", "value": "v", "condition": map[string]any{"responseHeader": map[string]string{"key": "Content-Type"}}})
	tests := []struct {
		name  string
		sans  []*registered
		split bool
	}{
		{"central", central, true},
		{"changers then central", append(append([]*registered{}, changers...), central...), true},
		{"central around changers", append(append(append([]*registered{}, central[:70]...), changers...), central[70:]...), true},
		{"a sanitizer on the whole recording", append(append([]*registered{}, central...), onWhole), false},
		{"a condition on the response", append([]*registered{onResponse}, central...), false},
	}
	base := append(varied(), benchEntries(t)...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := sanitizeRecording(tt.sans, deepCopy(base))
			light, ok := compilePlan(tt.sans).Deferred(deepCopy(base))
			if ok != tt.split {
				t.Fatalf("split = %v, want %v", ok, tt.split)
			}
			if !ok {
				return
			}
			if len(light) != len(want) {
				t.Fatalf("%d exchanges, want %d", len(light), len(want))
			}
			for i := range want {
				req := light[i].Request
				if len(req.Headers) == 0 && want[i].Request.Headers == nil {
					req.Headers = nil
				}
				if !reflect.DeepEqual(req, want[i].Request) {
					t.Errorf("exchange %d's request:\n got %+v\nwant %+v", i, req, want[i].Request)
				}
				full, err := light[i].Full()
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(full, want[i]) {
					t.Errorf("exchange %d served:\n got %+v\nwant %+v", i, full, want[i])
				}
			}
		})
	}
}
