package redact_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
)

func jsonText(h http.Header) bool { return strings.Contains(h.Get("Content-Type"), "json") }

func exchange(method, url string, reqH http.Header, reqBody string, respH http.Header, respBody string) cassette.Interaction {
	return cassette.Interaction{
		Request:  cassette.Request{Method: method, URL: url, Headers: reqH, Body: reqBody},
		Response: cassette.Response{Headers: respH, Body: respBody},
	}
}

func TestSanitizerRuleEditsAnExchangeAsTestProxyDoes(t *testing.T) {
	const guid = "6f2b4a51-93c4-4a0e-9b1d-2c7f0d8e1a3b"
	js := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		name   string
		s      redact.Sanitizer
		bodies bool
		in     cassette.Interaction
		want   cassette.Interaction
	}{
		{
			name: "a .NET lookbehind and a named group: the first host label (AZSDK4001)",
			s:    redact.Sanitizer{Parts: redact.PartURI, Regex: `(?<=http://|https://)(?<host>[^/?\.]+)`, Group: "host", Value: "Sanitized"},
			in:   exchange("GET", "https://management.azure.com/subscriptions/x?api-version=1", http.Header{}, "", http.Header{}, ""),
			want: exchange("GET", "https://Sanitized.azure.com/subscriptions/x?api-version=1", http.Header{}, "", http.Header{}, ""),
		},
		{
			name:   "general regex: URI, the first value of every header, text bodies",
			s:      redact.Sanitizer{Parts: redact.PartURI | redact.PartHeaders | redact.PartBody, FirstValue: true, Regex: `[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}`, Value: redact.ZeroGUID},
			bodies: true,
			in:     exchange("PUT", "https://m/subscriptions/"+guid, http.Header{"X-A": {guid, guid}, "Content-Type": {"application/json"}}, `{"t":"`+guid+`"}`, http.Header{"Content-Type": {"application/octet-stream"}}, guid),
			want:   exchange("PUT", "https://m/subscriptions/"+redact.ZeroGUID, http.Header{"X-A": {redact.ZeroGUID, guid}, "Content-Type": {"application/json"}}, `{"t":"`+redact.ZeroGUID+`"}`, http.Header{"Content-Type": {"application/octet-stream"}}, guid),
		},
		{
			name: ".NET substitutions in the replacement",
			s:    redact.Sanitizer{Parts: redact.PartURI, Regex: `(?<rg>go-sdk-test-)\d+`, Value: "${rg}rg"},
			in:   exchange("GET", "https://m/resourceGroups/go-sdk-test-42/x", http.Header{}, "", http.Header{}, ""),
			want: exchange("GET", "https://m/resourceGroups/go-sdk-test-rg/x", http.Header{}, "", http.Header{}, ""),
		},
		{
			name: "every capture of a repeated group",
			s:    redact.Sanitizer{Parts: redact.PartURI, Regex: `/(?:(?<seg>\d+)/)+`, Group: "seg", Value: "N"},
			in:   exchange("GET", "https://m/a/1/22/333/b", http.Header{}, "", http.Header{}, ""),
			want: exchange("GET", "https://m/a/N/N/N/b", http.Header{}, "", http.Header{}, ""),
		},
		{
			name: "header regex: every value of one header; an empty value stays empty under .+",
			s:    redact.Sanitizer{Parts: redact.PartHeaders, Header: "operation-location", Regex: ".+", Value: "https://example.com"},
			in:   exchange("GET", "https://m/", http.Header{"Operation-Location": {""}}, "", http.Header{"Operation-Location": {"https://a", "https://b"}, "Location": {"https://y"}}, ""),
			want: exchange("GET", "https://m/", http.Header{"Operation-Location": {""}}, "", http.Header{"Operation-Location": {"https://example.com", "https://example.com"}, "Location": {"https://y"}}, ""),
		},
		{
			name:   "body key: a regex group inside the selected values; the rest keeps its bytes",
			s:      redact.Sanitizer{Parts: redact.PartBody, JSONPath: "$..sasUri", Regex: `sig=(?<sig>[^&]+)`, Group: "sig", Value: "Sanitized"},
			bodies: true,
			in:     exchange("GET", "https://m/", http.Header{}, "", js, `{"a": {"sasUri": "https://s/c?sv=1&sig=abc%3D&se=2"},  "b": 1}`),
			want:   exchange("GET", "https://m/", http.Header{}, "", js, `{"a": {"sasUri": "https://s/c?sv=1&sig=Sanitized&se=2"},  "b": 1}`),
		},
		{
			name:   "body key: nested names, null kept, numbers and booleans written back as strings",
			s:      redact.Sanitizer{Parts: redact.PartBody, JSONPath: "$..name", Regex: ".+", Value: "Sanitized"},
			bodies: true,
			in:     exchange("GET", "https://m/", http.Header{}, "", js, `{"name":{"name":"x"},"v":[{"name":7},{"name":null},{"name":true}]}`),
			want:   exchange("GET", "https://m/", http.Header{}, "", js, `{"name":{"name":"Sanitized"},"v":[{"name":"Sanitized"},{"name":null},{"name":"Sanitized"}]}`),
		},
		{
			name:   "body key: nothing changes when the regex does not match",
			s:      redact.Sanitizer{Parts: redact.PartBody, JSONPath: "$..sasUri", Regex: `sig=(?<sig>[^&]+)`, Group: "sig", Value: "Sanitized"},
			bodies: true,
			in:     exchange("GET", "https://m/", http.Header{}, "", js, `{"sasUri": 5, "x": "sig=a"}`),
			want:   exchange("GET", "https://m/", http.Header{}, "", js, `{"sasUri": 5, "x": "sig=a"}`),
		},
		{
			name:   "a body regex keeps Content-Length true",
			s:      redact.Sanitizer{Parts: redact.PartBody, Regex: `client_secret=(?<secret>[^&"\s\n,\\]+)`, Group: "secret", Value: "Sanitized"},
			bodies: true,
			in:     exchange("POST", "https://login/t/token", http.Header{"Content-Type": {"application/json"}, "Content-Length": {"31"}}, `{"x":"client_secret=abc123&a=b"}`, http.Header{}, ""),
			want:   exchange("POST", "https://login/t/token", http.Header{"Content-Type": {"application/json"}, "Content-Length": {"35"}}, `{"x":"client_secret=Sanitized&a=b"}`, http.Header{}, ""),
		},
		{
			name: "bodies are left alone when not asked for (a live request, bodies not matched)",
			s:    redact.Sanitizer{Parts: redact.PartBody, Regex: "secret", Value: "x"},
			in:   exchange("POST", "https://m/", js, `"secret"`, js, `"secret"`),
			want: exchange("POST", "https://m/", js, `"secret"`, js, `"secret"`),
		},
		{
			name:   "the body of a HEAD answer is never edited",
			s:      redact.Sanitizer{Parts: redact.PartBody, Regex: "secret", Value: "x"},
			bodies: true,
			in:     exchange("HEAD", "https://m/", http.Header{}, "", js, `"secret"`),
			want:   exchange("HEAD", "https://m/", http.Header{}, "", js, `"secret"`),
		},
		{
			name: "remove headers from both sides, names in any case",
			s:    redact.Sanitizer{Remove: []string{"Telemetry-Source-Time", " set-cookie"}},
			in:   exchange("GET", "https://m/", http.Header{"Telemetry-Source-Time": {"a"}, "Keep": {"k"}}, "", http.Header{"Set-Cookie": {"c"}}, ""),
			want: exchange("GET", "https://m/", http.Header{"Keep": {"k"}}, "", http.Header{}, ""),
		},
		{
			name: "the base sanitizer: Authorization, however spelled",
			s:    redact.Sanitizer{AuthHeader: true},
			in:   exchange("GET", "https://m/", http.Header{"authorization": {"Bearer a", "b"}}, "", http.Header{}, ""),
			want: exchange("GET", "https://m/", http.Header{"authorization": {"Sanitized"}}, "", http.Header{}, ""),
		},
		{
			name: "a literal target: regex characters mean themselves",
			s:    redact.Sanitizer{Parts: redact.PartURI, Literal: "a.b(c)", Value: "x"},
			in:   exchange("GET", "https://m/a.b(c)/aXb(c)", http.Header{}, "", http.Header{}, ""),
			want: exchange("GET", "https://m/x/aXb(c)", http.Header{}, "", http.Header{}, ""),
		},
		{
			name:   "a key written with \\/ escapes is found by its name, as the JSON reader decodes it",
			s:      redact.Sanitizer{Parts: redact.PartBody, JSONPath: "$..['a/b']", Regex: ".+", Value: "Sanitized"},
			bodies: true,
			in:     exchange("POST", "https://m/a", http.Header{}, "", js, `{"a\/b":"v","c":"a\/b"}`),
			want:   exchange("POST", "https://m/a", http.Header{}, "", js, `{"a\/b":"Sanitized","c":"a\/b"}`),
		},
		{
			name:   "a key with a character strconv.Quote escapes and JSON does not",
			s:      redact.Sanitizer{Parts: redact.PartBody, JSONPath: "$..['k\x7f']", Regex: ".+", Value: "Sanitized"},
			bodies: true,
			in:     exchange("POST", "https://m/a", http.Header{}, "", js, "{\"k\x7f\":\"v\"}"),
			want:   exchange("POST", "https://m/a", http.Header{}, "", js, "{\"k\x7f\":\"Sanitized\"}"),
		},
		{
			name:   "a URI condition that does not hold leaves the exchange alone",
			s:      redact.Sanitizer{Parts: redact.PartBody, Regex: "secret", Value: "x", Condition: redact.Condition{URIRegex: `/listKeys`}},
			bodies: true,
			in:     exchange("POST", "https://m/get", http.Header{}, "", js, `"secret"`),
			want:   exchange("POST", "https://m/get", http.Header{}, "", js, `"secret"`),
		},
		{
			name:   "a response-header condition with a value regex",
			s:      redact.Sanitizer{Parts: redact.PartBody, Regex: "secret", Value: "x", Condition: redact.Condition{ResponseHeader: "x-kind", ResponseHeaderValue: "^ke"}},
			bodies: true,
			in:     exchange("POST", "https://m/a", http.Header{}, "", http.Header{"Content-Type": {"application/json"}, "X-Kind": {"other", "keys"}}, `"secret"`),
			want:   exchange("POST", "https://m/a", http.Header{}, "", http.Header{"Content-Type": {"application/json"}, "X-Kind": {"other", "keys"}}, `"x"`),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := redact.NewSanitizerRule(c.s)
			if err != nil {
				t.Fatal(err)
			}
			twice := cloneExchange(c.in)
			it := c.in
			o := redact.SanitizeOptions{Bodies: c.bodies, IsText: jsonText}
			r.Sanitize(&it, o)
			if !reflect.DeepEqual(it, c.want) {
				t.Errorf("got\n%+v\nwant\n%+v", it, c.want)
			}
			// Twice, as a compiled set and one rule after the other.
			r.Sanitize(&it, o)
			redact.NewSanitizerSet([]*redact.SanitizerRule{r, r}).Sanitize(&twice, o)
			if !reflect.DeepEqual(twice, it) {
				t.Errorf("as a set, twice:\n%+v\nwant\n%+v", twice, it)
			}
		})
	}
}

func TestSanitizerRuleRefusesBadExpressions(t *testing.T) {
	for _, s := range []redact.Sanitizer{
		{Regex: "("},
		{Regex: "x", Condition: redact.Condition{URIRegex: "["}},
		{Regex: "x", Condition: redact.Condition{ResponseHeader: "h", ResponseHeaderValue: "(?<"}},
		{JSONPath: "$[?(@.x)]"},
	} {
		if _, err := redact.NewSanitizerRule(s); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}

func cloneExchange(it cassette.Interaction) cassette.Interaction {
	it.Request.Headers = it.Request.Headers.Clone()
	it.Response.Headers = it.Response.Headers.Clone()
	return it
}
