package redact_test

import (
	"net/http"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
)

func TestSanitizerRules(t *testing.T) {
	const guid = "6f2b4a51-93c4-4a0e-9b1d-2c7f0d8e1a3b"
	tests := []struct {
		name string
		s    redact.Sanitizer
		in   cassette.Interaction
		want cassette.Interaction
	}{
		{
			name: "general regex everywhere (the Go harness's GUID sanitizer)",
			s:    redact.Sanitizer{Where: "all", Regex: `[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}`, Value: "00000000-0000-0000-0000-000000000000"},
			in:   cassette.Interaction{Request: cassette.Request{URL: "https://m/subscriptions/" + guid, Body: `{"t":"` + guid + `"}`, Headers: http.Header{"X": {guid}}}, Response: cassette.Response{Body: guid, Headers: http.Header{}}},
			want: cassette.Interaction{Request: cassette.Request{URL: "https://m/subscriptions/00000000-0000-0000-0000-000000000000", Body: `{"t":"00000000-0000-0000-0000-000000000000"}`, Headers: http.Header{"X": {"00000000-0000-0000-0000-000000000000"}}}, Response: cassette.Response{Body: "00000000-0000-0000-0000-000000000000", Headers: http.Header{}}},
		},
		{
			name: "uri regex with a group",
			s:    redact.Sanitizer{Where: "uri", Regex: `resourceGroups/(?<rg>go-sdk-test-\d+)`, Value: "go-sdk-test-rg", Group: "rg"},
			in:   cassette.Interaction{Request: cassette.Request{URL: "https://m/resourceGroups/go-sdk-test-42/x", Body: "go-sdk-test-42", Headers: http.Header{}}, Response: cassette.Response{Headers: http.Header{}}},
			want: cassette.Interaction{Request: cassette.Request{URL: "https://m/resourceGroups/go-sdk-test-rg/x", Body: "go-sdk-test-42", Headers: http.Header{}}, Response: cassette.Response{Headers: http.Header{}}},
		},
		{
			name: "header regex on one header, whole value",
			s:    redact.Sanitizer{Where: "headers", Header: "Operation-Location", Value: "Sanitized"},
			in:   cassette.Interaction{Request: cassette.Request{URL: "https://m/", Headers: http.Header{}}, Response: cassette.Response{Headers: http.Header{"Operation-Location": {"https://x"}, "Location": {"https://y"}}}},
			want: cassette.Interaction{Request: cassette.Request{URL: "https://m/", Headers: http.Header{}}, Response: cassette.Response{Headers: http.Header{"Operation-Location": {"Sanitized"}, "Location": {"https://y"}}}},
		},
		{
			name: "body key with a regex inside the value",
			s:    redact.Sanitizer{Where: "body", JSONPath: "$..connectionString", Regex: `AccountKey=[^;]+`, Value: "AccountKey=Sanitized"},
			in:   cassette.Interaction{Request: cassette.Request{URL: "https://m/", Headers: http.Header{}}, Response: cassette.Response{Headers: http.Header{}, Body: `{"connectionStrings":[{"connectionString":"AccountEndpoint=x;AccountKey=abc;"}]}`}},
			want: cassette.Interaction{Request: cassette.Request{URL: "https://m/", Headers: http.Header{}}, Response: cassette.Response{Headers: http.Header{}, Body: `{"connectionStrings":[{"connectionString":"AccountEndpoint=x;AccountKey=Sanitized;"}]}`}},
		},
		{
			name: "remove headers",
			s:    redact.Sanitizer{Where: "headers", Remove: []string{"X-Secret", " Set-Cookie"}},
			in:   cassette.Interaction{Request: cassette.Request{URL: "https://m/", Headers: http.Header{"X-Secret": {"a"}, "Keep": {"k"}}}, Response: cassette.Response{Headers: http.Header{"Set-Cookie": {"c"}}}},
			want: cassette.Interaction{Request: cassette.Request{URL: "https://m/", Headers: http.Header{"Keep": {"k"}}}, Response: cassette.Response{Headers: http.Header{}}},
		},
		{
			name: "a URI condition that does not hold leaves the exchange alone",
			s:    redact.Sanitizer{Where: "body", Regex: "secret", Value: "x", IfURI: `/listKeys`},
			in:   cassette.Interaction{Request: cassette.Request{URL: "https://m/get", Headers: http.Header{}}, Response: cassette.Response{Body: "secret", Headers: http.Header{}}},
			want: cassette.Interaction{Request: cassette.Request{URL: "https://m/get", Headers: http.Header{}}, Response: cassette.Response{Body: "secret", Headers: http.Header{}}},
		},
		{
			name: "a URI condition that holds applies to the response",
			s:    redact.Sanitizer{Where: "body", Regex: "secret", Value: "x", IfURI: `/listKeys`},
			in:   cassette.Interaction{Request: cassette.Request{URL: "https://m/a/listKeys", Headers: http.Header{}}, Response: cassette.Response{Body: "secret", Headers: http.Header{}}},
			want: cassette.Interaction{Request: cassette.Request{URL: "https://m/a/listKeys", Headers: http.Header{}}, Response: cassette.Response{Body: "x", Headers: http.Header{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule, err := redact.NewSanitizerRule(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			it := tt.in
			redact.Redactor{rule}.Interaction(&it)
			if it.Request.URL != tt.want.Request.URL || it.Request.Body != tt.want.Request.Body || it.Response.Body != tt.want.Response.Body ||
				len(it.Request.Headers) != len(tt.want.Request.Headers) || len(it.Response.Headers) != len(tt.want.Response.Headers) {
				t.Fatalf("got %+v\nwant %+v", it, tt.want)
			}
			for k := range tt.want.Request.Headers {
				if it.Request.Headers.Get(k) != tt.want.Request.Headers.Get(k) {
					t.Errorf("request header %s = %q", k, it.Request.Headers.Get(k))
				}
			}
			for k := range tt.want.Response.Headers {
				if it.Response.Headers.Get(k) != tt.want.Response.Headers.Get(k) {
					t.Errorf("response header %s = %q", k, it.Response.Headers.Get(k))
				}
			}
		})
	}
	for _, bad := range []redact.Sanitizer{{Where: "all", Regex: "("}, {Where: "all"}, {Where: "sky", Regex: "x"}, {Where: "all", Regex: "(a)", Group: "2"}, {Where: "body", JSONPath: "nope"}} {
		if _, err := redact.NewSanitizerRule(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
