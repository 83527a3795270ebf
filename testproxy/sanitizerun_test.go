package testproxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
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

// Sanitizing exchange by exchange, on several cores, edits a recording as sanitizing sanitizer
// by sanitizer does: with test-proxy's central list, and with sanitizers that change what
// later ones depend on (the Content-Type, a body's keys) or work on the whole recording.
func TestSanitizeRecordingAsOneByOne(t *testing.T) {
	g := newRegistry()
	central := g.resolve(g.serverList())
	changers := []*registered{
		custom(t, "HeaderRegexSanitizer", map[string]any{"key": "Content-Type", "regex": "json", "value": "octet-stream"}),
		custom(t, "BodyRegexSanitizer", map[string]any{"regex": `"renamed"`, "value": `"primaryKey"`}),
		custom(t, "BodyStringSanitizer", map[string]any{"target": "K", "value": "kk"}),
		custom(t, "BodyStringSanitizer", map[string]any{"target": "pa55word", "value": "password"}), // the same length
		custom(t, "RemoveHeaderSanitizer", map[string]any{"headersForRemoval": "content-type", "condition": map[string]string{"uriRegex": `acct[12]\.documents`}}),
		custom(t, "GeneralRegexSanitizer", map[string]any{"regex": "text/plain", "value": "application/json"}),
		custom(t, "RegexEntrySanitizer", map[string]any{"target": "uri", "regex": "acct3"}),
	}
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
				requestRule{sans: sans, bodies: true}.RedactRequest(&a)
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
