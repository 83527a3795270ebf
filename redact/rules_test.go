package redact_test

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
)

const (
	subID    = "6f2b4a51-93c4-4a0e-9b1d-2c7f0d8e1a3b"
	tenantID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	docGUID  = "d5b1f7a2-0c44-4e1b-8f3a-9a6b2c1d0e9f" // a Cosmos document id that happens to be a GUID
)

func TestDefaultRules(t *testing.T) {
	tests := []struct {
		name string
		req  cassette.Request
		resp cassette.Response
		// check returns what is wrong with the redacted interaction, or "".
		want map[string]string // where -> exact expected value
	}{
		{
			name: "cosmos master signature keeps its kind",
			req:  cassette.Request{URL: "https://a.documents.azure.com/dbs", Headers: http.Header{"Authorization": {url.QueryEscape("type=master&ver=1.0&sig=K2l4bW9yZXNlY3JldHNpZ25hdHVyZXNsb25nZW5vdWdo")}}},
			want: map[string]string{"req.header.Authorization": url.QueryEscape("type=master&ver=1.0&sig=REDACTED")},
		},
		{
			name: "cosmos resource token and aad token",
			req:  cassette.Request{URL: "https://a.documents.azure.com/dbs", Headers: http.Header{"Authorization": {"type=resource&ver=1.0&sig=abc+/def="}, "X-Other": {"type=aad"}}},
			want: map[string]string{"req.header.Authorization": "type=resource&ver=1.0&sig=REDACTED", "req.header.X-Other": "type=aad"},
		},
		{
			name: "arm bearer",
			req:  cassette.Request{URL: "https://management.azure.com/", Headers: http.Header{"Authorization": {"Bearer eyJ0eXAiOiJKV1QifQ.eyJ0aWQiOiJ4In0.sig"}}},
			want: map[string]string{"req.header.Authorization": "Bearer REDACTED"},
		},
		{
			name: "arm keys keep the body's bytes",
			resp: cassette.Response{Body: "{\n  \"primaryMasterKey\": \"k1==\",\n  \"secondaryMasterKey\":\"k2\", \"primaryReadonlyMasterKey\" : \"k3\",\"secondaryReadonlyMasterKey\":\"k4\",\"id\":\"acct\"\n}"},
			want: map[string]string{"resp.body": "{\n  \"primaryMasterKey\": \"REDACTED\",\n  \"secondaryMasterKey\":\"REDACTED\", \"primaryReadonlyMasterKey\" : \"REDACTED\",\"secondaryReadonlyMasterKey\":\"REDACTED\",\"id\":\"acct\"\n}"},
		},
		{
			name: "connection strings in bodies and headers",
			resp: cassette.Response{Body: `{"connectionStrings":[{"connectionString":"AccountEndpoint=https://a.documents.azure.com:443/;AccountKey=abc+/==;","description":"Primary SQL Connection String"}]}`, Headers: http.Header{"X-Conn": {"Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=zzz="}}},
			want: map[string]string{
				"resp.body":          `{"connectionStrings":[{"connectionString":"AccountEndpoint=https://a.documents.azure.com:443/;AccountKey=REDACTED;","description":"Primary SQL Connection String"}]}`,
				"resp.header.X-Conn": "Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=REDACTED",
			},
		},
		{
			name: "permission token",
			resp: cassette.Response{Body: `{"id":"p1","permissionMode":"Read","_token":"type=resource&ver=1&sig=xyz"}`},
			want: map[string]string{"resp.body": `{"id":"p1","permissionMode":"Read","_token":"REDACTED"}`},
		},
		{
			name: "entra client secret form",
			req: cassette.Request{URL: "https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/token", Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}},
				Body: "client_id=app&client_secret=s3cr%2Bt&grant_type=client_credentials&client_assertion=eyJx.eyJy.z&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"},
			want: map[string]string{
				"req.body": "client_id=app&client_secret=REDACTED&grant_type=client_credentials&client_assertion=REDACTED&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
				"req.url":  "https://login.microsoftonline.com/" + redact.ZeroGUID + "/oauth2/v2.0/token",
			},
		},
		{
			name: "entra tokens in responses",
			resp: cassette.Response{Body: `{"token_type":"Bearer","expires_in":3599,"access_token":"eyJa.eyJb.c","refresh_token":"r","id_token":"i"}`},
			want: map[string]string{"resp.body": `{"token_type":"Bearer","expires_in":3599,"access_token":"REDACTED","refresh_token":"REDACTED","id_token":"REDACTED"}`},
		},
		{
			name: "cookies and operation identifier",
			req:  cassette.Request{URL: "https://login.microsoftonline.com/x", Headers: http.Header{"Cookie": {"fpc=abc"}}},
			resp: cassette.Response{Headers: http.Header{"Set-Cookie": {"fpc=abc; path=/", "x-ms-gateway-slice=estsfd"}, "X-Ms-Operation-Identifier": {"tenantId=" + tenantID + ",objectId=o"}}},
			want: map[string]string{"req.header.Cookie": "REDACTED", "resp.header.Set-Cookie": "REDACTED", "resp.header.X-Ms-Operation-Identifier": "REDACTED"},
		},
		{
			name: "subscription id everywhere, learned from the URL",
			req:  cassette.Request{URL: "https://management.azure.com/subscriptions/" + strings.ToUpper(subID) + "/resourceGroups/rg?api-version=1"},
			resp: cassette.Response{
				Headers: http.Header{"Azure-Asyncoperation": {"https://management.azure.com/subscriptions/" + subID + "/providers/Microsoft.DocumentDB/locations/westus/operationsStatus/" + docGUID}},
				Body:    `{"id":"/subscriptions/` + subID + `/resourceGroups/rg","properties":{"subscriptionId":"` + subID + `","docId":"` + docGUID + `"}}`,
			},
			want: map[string]string{
				"req.url":                          "https://management.azure.com/subscriptions/" + redact.ZeroGUID + "/resourceGroups/rg?api-version=1",
				"resp.header.Azure-Asyncoperation": "https://management.azure.com/subscriptions/" + redact.ZeroGUID + "/providers/Microsoft.DocumentDB/locations/westus/operationsStatus/" + docGUID,
				"resp.body":                        `{"id":"/subscriptions/` + redact.ZeroGUID + `/resourceGroups/rg","properties":{"subscriptionId":"` + redact.ZeroGUID + `","docId":"` + docGUID + `"}}`,
			},
		},
		{
			name: "dates and routing id",
			req:  cassette.Request{URL: "https://a/", Headers: http.Header{"X-Ms-Date": {"Sun, 22 Nov 2026 18:00:00 GMT"}}},
			resp: cassette.Response{Headers: http.Header{"Date": {"x"}, "X-Ms-Last-State-Change-Utc": {"y"}, "X-Ms-Routing-Request-Id": {"WESTUS2:20261122T181000Z:" + docGUID}}},
			want: map[string]string{
				"req.header.X-Ms-Date":                   redact.FixedDate,
				"resp.header.Date":                       redact.FixedDate,
				"resp.header.X-Ms-Last-State-Change-Utc": redact.FixedDate,
				"resp.header.X-Ms-Routing-Request-Id":    "WESTUS2:20000101T000000Z:" + redact.ZeroGUID,
			},
		},
		{
			name: "request ids and durations",
			req:  cassette.Request{URL: "https://a/", Headers: http.Header{"X-Ms-Activity-Id": {docGUID}, "X-Ms-Client-Request-Id": {"abc"}}},
			resp: cassette.Response{Duration: "12.5ms", Headers: http.Header{"X-Ms-Request-Id": {"r"}, "X-Ms-Correlation-Request-Id": {"c"}}},
			want: map[string]string{
				"req.header.X-Ms-Activity-Id":             redact.ZeroGUID,
				"req.header.X-Ms-Client-Request-Id":       redact.ZeroGUID,
				"resp.header.X-Ms-Request-Id":             redact.ZeroGUID,
				"resp.header.X-Ms-Correlation-Request-Id": redact.ZeroGUID,
				"resp.duration":                           "0s",
			},
		},
		{
			name: "cosmos documents keep ids, names and guids",
			req:  cassette.Request{URL: "https://a.documents.azure.com/dbs/d/colls/c/docs", Body: `{"id":"` + docGUID + `","name":"Ann","tenantName":"x","key":"not a secret field"}`},
			resp: cassette.Response{Body: `{"id":"` + docGUID + `","name":"Ann","_rid":"AAA=","_etag":"\"0\""}`},
			want: map[string]string{
				"req.body":  `{"id":"` + docGUID + `","name":"Ann","tenantName":"x","key":"not a secret field"}`,
				"resp.body": `{"id":"` + docGUID + `","name":"Ann","_rid":"AAA=","_etag":"\"0\""}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := &cassette.Interaction{Request: tt.req, Response: tt.resp}
			if it.Request.Headers == nil {
				it.Request.Headers = http.Header{}
			}
			if it.Response.Headers == nil {
				it.Response.Headers = http.Header{}
			}
			redact.DefaultRules().Interaction(it)
			for where, want := range tt.want {
				var got string
				switch {
				case where == "req.url":
					got = it.Request.URL
				case where == "req.body":
					got = it.Request.Body
				case where == "resp.body":
					got = it.Response.Body
				case where == "resp.duration":
					got = it.Response.Duration
				case strings.HasPrefix(where, "req.header."):
					got = it.Request.Headers.Get(strings.TrimPrefix(where, "req.header."))
				case strings.HasPrefix(where, "resp.header."):
					got = it.Response.Headers.Get(strings.TrimPrefix(where, "resp.header."))
				}
				if got != want {
					t.Errorf("%s\n got %s\nwant %s", where, got, want)
				}
			}
		})
	}
}

// The tenant learned from a token request is replaced in later interactions of the session too,
// and the same rules on a live request (replay) give the recorded form.
func TestAzureIDsConsistentAcrossInteractions(t *testing.T) {
	r := redact.DefaultRules()
	login := &cassette.Interaction{Request: cassette.Request{URL: "https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/token", Headers: http.Header{}}}
	r.Interaction(login)
	later := &cassette.Interaction{Response: cassette.Response{Body: `{"tenantRef":"` + tenantID + `"}`, Headers: http.Header{}}, Request: cassette.Request{Headers: http.Header{}}}
	r.Interaction(later)
	if strings.Contains(later.Response.Body, tenantID) {
		t.Errorf("tenant id survived in a later interaction: %s", later.Response.Body)
	}
	live := cassette.Request{URL: "https://management.azure.com/subscriptions/" + subID + "/providers?api-version=1", Headers: http.Header{}}
	redact.DefaultRules().Request(&live) // a fresh session, as in replay
	if live.URL != "https://management.azure.com/subscriptions/"+redact.ZeroGUID+"/providers?api-version=1" {
		t.Errorf("live request URL %s", live.URL)
	}
}

func TestJSONValueReplacement(t *testing.T) {
	tests := []struct{ in, want string }{
		// Only string values are secrets: objects under a secret's name (ARM's keysMetadata) stay.
		{`{"a":{"access_token":{"nested":[1,2]}},"b":"access_token"}`, `{"a":{"access_token":{"nested":[1,2]}},"b":"access_token"}`},
		{`{"keysMetadata":{"primaryMasterKey":{"generationTime":"2026-01-01T00:00:00Z"}},"primaryMasterKey":"k=="}`, `{"keysMetadata":{"primaryMasterKey":{"generationTime":"2026-01-01T00:00:00Z"}},"primaryMasterKey":"REDACTED"}`},
		{`[{"access_token":"x"},{"access_token":"y\"z"}]`, `[{"access_token":"REDACTED"},{"access_token":"REDACTED"}]`},
		{"{ \"access_token\" :\n \"x\" , \"k\":1}", "{ \"access_token\" :\n \"REDACTED\" , \"k\":1}"},
		{`{"access_token":"x"`, `{"access_token":"x"`}, // not JSON: unchanged
		{`{"s":"access_token","access_token":null}`, `{"s":"access_token","access_token":null}`},
	}
	for _, tt := range tests {
		resp := cassette.Response{Body: tt.in, Headers: http.Header{}}
		redact.DefaultRules().Response(&resp)
		if resp.Body != tt.want {
			t.Errorf("%s\n got %s\nwant %s", tt.in, resp.Body, tt.want)
		}
	}
}

func TestConfigRules(t *testing.T) {
	cfg, err := redact.ParseConfig("c.yaml", []byte(`redact:
  disable: [durations]
  keep_headers: [x-ms-request-id]
  rules:
    - name: account-host
      regex: 'realacct(-westus)?\.documents\.azure\.com'
      replace: myacct.documents.azure.com
    - header: x-ms-session-token
      replace: "0:0#0"
    - json_path: $.properties.documentEndpoint
      replace: https://myacct.documents.azure.com:443/
    - json_path: $..secretish
      replace: gone
    - url: query
      param: sig
      replace: REDACTED
    - url: path
      match: '/users/[^/]+'
      replace: /users/someone
`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := cfg.Redact.Redactor()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(r.Names(), ","), "durations") || !strings.Contains(strings.Join(r.Names(), ","), "account-host") {
		t.Errorf("rules %v", r.Names())
	}
	it := &cassette.Interaction{
		Request: cassette.Request{URL: "https://realacct-westus.documents.azure.com/dbs/users/ann?sig=abc&x=1", Host: "realacct-westus.documents.azure.com",
			Headers: http.Header{"X-Ms-Session-Token": {"0:1#55"}}},
		Response: cassette.Response{Duration: "5ms", Headers: http.Header{"X-Ms-Request-Id": {"keep-me"}},
			Body: `{"properties":{"documentEndpoint":"https://realacct.documents.azure.com:443/","x":{"secretish":1}},"secretish":[2]}`},
	}
	r.Interaction(it)
	checks := map[string][2]string{
		"url":      {it.Request.URL, "https://myacct.documents.azure.com/dbs/users/someone?sig=REDACTED&x=1"},
		"host":     {it.Request.Host, "myacct.documents.azure.com"},
		"session":  {it.Request.Headers.Get("X-Ms-Session-Token"), "0:0#0"},
		"body":     {it.Response.Body, `{"properties":{"documentEndpoint":"https://myacct.documents.azure.com:443/","x":{"secretish":"gone"}},"secretish":"gone"}`},
		"duration": {it.Response.Duration, "5ms"},
		"kept":     {it.Response.Headers.Get("X-Ms-Request-Id"), "keep-me"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s\n got %s\nwant %s", what, c[0], c[1])
		}
	}
}

func TestConfigErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		yaml string
		line int
		msg  string
	}{
		{"redact:\n  rules:\n    - header: a\n      regex: b\n      replace: c\n", 3, "exactly one of"},
		{"redact:\n  rules:\n    - regex: '('\n", 3, "regex"},
		{"redact:\n  rules:\n    - header: a\n    - json_path: 'nope'\n", 4, "json_path"},
		{"redact:\n  rules:\n    - url: fragment\n", 3, "host, path or query"},
		{"redact:\n  rules:\n    - url: query\n", 3, "needs param"},
		{"redact:\n  disabled: [dates]\n", 2, "disabled"},
		{"redact:\n  disable: [no-such-rule]\n", 0, `no redaction rule named "no-such-rule"`},
		{"x: &r {header: a, replace: b}\nredact:\n  rules:\n    - *r\n", 4, "YAML alias *r"},
		{"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nredact:\n  disable: *b\n", 2, "YAML alias *a"},
		{"redact:\n  rules:\n    - regex: a\n      replace: b\n  keep: {<<: *m}\n", 5, "unknown anchor"},
	}
	for _, tt := range tests {
		_, err := redact.ParseConfig("c.yaml", []byte(tt.yaml))
		var ce *cassette.Error
		if !errors.As(err, &ce) || ce.Line != tt.line || ce.File != "c.yaml" || !strings.Contains(ce.Msg, tt.msg) {
			t.Errorf("%q: error %v, want c.yaml line %d mentioning %q", tt.yaml, err, tt.line, tt.msg)
		}
	}
}

// MSAL's first request names the tenant only inside a URL-encoded query value.
func TestTenantLearnedFromEncodedURL(t *testing.T) {
	req := cassette.Request{Headers: http.Header{}, URL: "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=https%3A%2F%2Flogin.microsoftonline.com%2F" + tenantID + "%2Foauth2%2Fv2.0%2Fauthorize"}
	redact.DefaultRules().Request(&req)
	if strings.Contains(req.URL, tenantID) || !strings.Contains(req.URL, redact.ZeroGUID) {
		t.Errorf("tenant kept: %s", req.URL)
	}
}

// Redaction that changes a body's length fixes the recorded lengths too.
func TestLengthsFollowRedaction(t *testing.T) {
	body := `{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl"}`
	resp := cassette.Response{Body: body, ContentLength: int64(len(body)), Headers: http.Header{"Content-Length": {strconv.Itoa(len(body))}}}
	redact.DefaultRules().Response(&resp)
	if n := len(resp.Body); resp.ContentLength != int64(n) || resp.Headers.Get("Content-Length") != strconv.Itoa(n) {
		t.Errorf("body %d bytes, content_length %d, header %s", n, resp.ContentLength, resp.Headers.Get("Content-Length"))
	}
}
