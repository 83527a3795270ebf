package redact_test

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/redact"
)

func TestDefaultRulesHeaders(t *testing.T) {
	cases := []struct {
		name string
		in   http.Header
		want http.Header
	}{
		{
			name: "canonical names",
			in: http.Header{
				"Authorization":       {"type=master&ver=1.0&sig=secret"},
				"Proxy-Authorization": {"Basic dXNlcjpwYXNz"},
				"X-Ms-Date":           {"Tue, 04 Mar 2025 10:00:00 GMT"},
				"Date":                {"Tue, 04 Mar 2025 10:00:01 GMT"},
				"Content-Type":        {"application/json"},
			},
			want: http.Header{ // the kind of credential stays visible, its secret part does not
				"Authorization":       {"type=master&ver=1.0&sig=" + redact.Redacted},
				"Proxy-Authorization": {"Basic " + redact.Redacted},
				"X-Ms-Date":           {redact.FixedDate},
				"Date":                {redact.FixedDate},
				"Content-Type":        {"application/json"},
			},
		},
		{
			name: "lower case names",
			in: http.Header{
				"authorization":       {"secret"},
				"proxy-authorization": {"secret2"},
				"x-ms-date":           {"now"},
				"date":                {"today"},
				"x-ms-version":        {"2020-07-15"},
			},
			want: http.Header{
				"authorization":       {redact.Redacted},
				"proxy-authorization": {redact.Redacted},
				"x-ms-date":           {redact.FixedDate},
				"date":                {redact.FixedDate},
				"x-ms-version":        {"2020-07-15"},
			},
		},
		{
			name: "odd case and several values",
			in: http.Header{
				"AUTHORIZATION": {"a", "b", "c"},
				"aUtHoRiZaTiOn": {"d"},
				"X-MS-DATE":     {"x", "y"},
			},
			want: http.Header{
				"AUTHORIZATION": {redact.Redacted, redact.Redacted, redact.Redacted},
				"aUtHoRiZaTiOn": {redact.Redacted},
				"X-MS-DATE":     {redact.FixedDate, redact.FixedDate},
			},
		},
		{
			name: "look-alike names untouched",
			in: http.Header{
				"X-Authorization":       {"keep1"},
				"Authorization-Hint":    {"keep2"},
				"X-Ms-Date-Format":      {"keep3"},
				"Last-Modified":         {"Tue, 04 Mar 2025 10:00:00 GMT"},
				"X-Ms-Session-Token":    {"0:1#2"},
				"Www-Authenticate":      {"Bearer realm=x"},
				"X-Ms-Cosmos-Date-Hint": {"keep4"},
			},
			want: http.Header{
				"X-Authorization":       {redact.Redacted}, // any *-authorization header holds a credential
				"Authorization-Hint":    {"keep2"},
				"X-Ms-Date-Format":      {"keep3"},
				"Last-Modified":         {"Tue, 04 Mar 2025 10:00:00 GMT"},
				"X-Ms-Session-Token":    {"0:1#2"},
				"Www-Authenticate":      {"Bearer realm=x"},
				"X-Ms-Cosmos-Date-Hint": {"keep4"},
			},
		},
		{
			name: "empty value list stays empty",
			in:   http.Header{"Authorization": {}, "Date": nil},
			want: http.Header{"Authorization": {}, "Date": nil},
		},
		{name: "empty header", in: http.Header{}, want: http.Header{}},
		{name: "nil header", in: nil, want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := redact.DefaultRules()

			req := cassette.Request{Method: "GET", URL: "https://h/", Headers: tc.in.Clone(), Body: "Authorization: secret"}
			r.Request(&req)
			if !reflect.DeepEqual(req.Headers, tc.want) {
				t.Errorf("request headers = %v, want %v", req.Headers, tc.want)
			}
			if req.Body != "Authorization: secret" || req.URL != "https://h/" {
				t.Errorf("request redaction touched more than headers: %+v", req)
			}

			resp := cassette.Response{Code: 200, Headers: tc.in.Clone(), Body: "Date: x"}
			r.Response(&resp)
			if !reflect.DeepEqual(resp.Headers, tc.want) {
				t.Errorf("response headers = %v, want %v", resp.Headers, tc.want)
			}
			if resp.Body != "Date: x" {
				t.Errorf("response body changed: %q", resp.Body)
			}

			it := cassette.Interaction{
				Request:  cassette.Request{Headers: tc.in.Clone()},
				Response: cassette.Response{Headers: tc.in.Clone()},
			}
			r.Interaction(&it)
			if !reflect.DeepEqual(it.Request.Headers, tc.want) || !reflect.DeepEqual(it.Response.Headers, tc.want) {
				t.Errorf("Interaction: request %v, response %v, want %v", it.Request.Headers, it.Response.Headers, tc.want)
			}
		})
	}
}

func TestDefaultRulesNames(t *testing.T) {
	var names []string
	for _, r := range redact.DefaultRules() {
		names = append(names, r.Name())
	}
	if !reflect.DeepEqual(names, redact.DefaultRuleNames) || len(names) != 14 {
		t.Errorf("rule names = %v", names)
	}
}

func TestRedactedCassetteOnDisk(t *testing.T) {
	path := cassettetest.TempPath(t, "r.yaml")
	it := cassettetest.SampleInteractions(t)[0]
	it.Request.Headers.Set("Authorization", "type=master&ver=1.0&sig=TOPSECRET")
	it.Request.Headers["x-ms-date"] = []string{"Wed, 05 Mar 2025 11:00:00 GMT"}
	it.Response.Headers.Set("Date", "Wed, 05 Mar 2025 11:00:01 GMT")
	redact.DefaultRules().Interaction(it)
	j, err := cassette.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Add(it); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	c := cassettetest.MustLoad(t, path)
	got := c.Interactions[0]
	if v := got.Request.Headers.Get("Authorization"); v != "type=master&ver=1.0&sig="+redact.Redacted {
		t.Errorf("Authorization on disk = %q", v)
	}
	// A key spelled in lower case is read back canonical, its spelling kept in the names.
	if v := got.Request.Headers["X-Ms-Date"]; !reflect.DeepEqual(v, []string{redact.FixedDate}) {
		t.Errorf("x-ms-date on disk = %q", v)
	}
	if !slices.Contains(got.Request.HeaderNames, "x-ms-date") {
		t.Errorf("x-ms-date lost its spelling: names %q", got.Request.HeaderNames)
	}
	if v := got.Response.Headers.Get("Date"); v != redact.FixedDate {
		t.Errorf("response Date on disk = %q", v)
	}
	if v := got.Request.Headers.Get("X-Ms-Documentdb-Partitionkey"); v != `["pk1"]` {
		t.Errorf("unrelated header changed: %q", v)
	}
	for _, secret := range []string{"TOPSECRET", "2025 11:00"} {
		if text := cassettetest.MustRead(t, path); strings.Contains(text, secret) {
			t.Errorf("file still contains %q", secret)
		}
	}
}
