package redact_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
)

// FuzzRedact: any body is redacted without panic by the default rules and a test-proxy
// BodyKeySanitizer; a JSON body stays JSON; and redacting again changes nothing more.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		`{"primaryMasterKey":"C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==","name":"acct"}`,
		`{"connectionString":"AccountEndpoint=https://a.documents.azure.com:443/;AccountKey=Zq8vL2mPx7RtW4kY9hNcZq8vL2mPx7RtW4kY9hNcZq8vL2mPx7RtW4kY9hNcZq8vL2mPx7RtW4kY9hNcAAAA;"}`,
		"client_id=x&client_secret=Zq8~vL2mPx7RtW4kY9hNc.Q_abcdefghijklm&grant_type=client_credentials",
		`{"n":1e6666666,"password":"\u0041bcdefgh1234XYZ"}`, nested(200), `{"a":"{\"b\":\"{\\\"c\\\":1}\"}"}`,
		"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", `{"value":[{"name":"x"},{"name":1},{"name":null}]}`, "not json at all: sig=abc&x=1",
	} {
		f.Add(s)
	}
	sanitizer, err := redact.NewSanitizerRule(redact.Sanitizer{Kind: "BodyKeySanitizer", Parts: redact.PartBody, JSONPath: "$..name", Value: "Sanitized"})
	if err != nil {
		f.Fatal(err)
	}
	text := redact.SanitizeOptions{Bodies: true, IsText: func(http.Header) bool { return true }}
	redactOnce := func(body string) string {
		it := &cassette.Interaction{
			Request:  cassette.Request{Method: "POST", URL: "https://a.documents.azure.com/dbs", Body: body, Headers: http.Header{"Content-Type": {"application/json"}}},
			Response: cassette.Response{Code: 200, Body: body, Headers: http.Header{"Content-Type": {"application/json"}}},
		}
		redact.DefaultRules().Interaction(it)
		sanitizer.Sanitize(it, text)
		if it.Request.Body != it.Response.Body {
			panic("request and response bodies redacted differently")
		}
		return it.Response.Body
	}
	f.Fuzz(func(t *testing.T, body string) {
		once := redactOnce(body)
		if json.Valid([]byte(body)) && !json.Valid([]byte(once)) {
			t.Fatalf("JSON %q redacted to %q, which is not JSON", body, once)
		}
		if twice := redactOnce(once); twice != once {
			t.Fatalf("redacting %q again changed it:\n%q\n%q", body, once, twice)
		}
		if strings.Count(once, "\n") > strings.Count(body, "\n")+1 {
			t.Fatalf("redaction added lines: %q", once)
		}
	})
}

// A secret written twice in one value is redacted both times (FuzzRedact found the second one
// kept: detectors skipped a value they had already found, wherever it stood).
func TestRepeatedSecretRedactedEverywhere(t *testing.T) {
	key := testKey(t)
	for _, body := range []string{
		"pAsswd:Zq8vL2mPx7 pAsswd:Zq8vL2mPx7",
		"AccountKey=" + key + ";x AccountKey=" + key + ";",
		`{"a":"/x/` + key + `/y/` + key + `/"}`,
		"see " + key + " and " + key,
	} {
		it := &cassette.Interaction{Response: cassette.Response{Code: 200, Body: body}}
		redact.DefaultRules().Interaction(it)
		if strings.Contains(it.Response.Body, "Zq8vL2mPx7") || strings.Contains(it.Response.Body, key[:40]) {
			t.Errorf("%q redacted to %q", body, it.Response.Body)
		}
	}
}
