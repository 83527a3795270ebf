package redact_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
)

// nested is a document depth levels deep, each level holding a name, a secret-named value and
// a number: [{"name":"n","password":"...","v":1,"a":[{...}]}].
func nested(depth int) string {
	level := `{"name":"level","password":"Zq8vL2mPx7RtW4kY9hNc","v":1,"a":[`
	return strings.Repeat(level, depth) + "0" + strings.Repeat("]}", depth)
}

// Redaction walks JSON iteratively with its path matching carried per level, so deeply nested
// documents cost what their size does: the default rules, a test-proxy BodyKeySanitizer with a
// recursive path, and a config json_path rule, each over a document 50,000 levels deep,
// selecting a value at every level. (Matching each value's whole path again, as before, made
// such documents quadratic: minutes and gigabytes.)
func TestRedactionOfDeepJSON(t *testing.T) {
	const depth = 50_000
	body := nested(depth)
	exchange := func() *cassette.Interaction {
		return &cassette.Interaction{
			Request:  cassette.Request{Method: "PUT", URL: "https://a.documents.azure.com/dbs/d", Body: body, Headers: http.Header{"Content-Type": {"application/json"}}},
			Response: cassette.Response{Code: 200, Body: body, Headers: http.Header{"Content-Type": {"application/json"}}},
		}
	}

	it := exchange()
	redact.DefaultRules().Interaction(it)
	if n := strings.Count(it.Response.Body, `"password":"REDACTED"`); n != depth {
		t.Errorf("default rules: %d of %d passwords redacted", n, depth)
	}

	rule, err := redact.NewSanitizerRule(redact.Sanitizer{Kind: "BodyKeySanitizer", Parts: redact.PartBody, JSONPath: "$..name", Value: "Sanitized"})
	if err != nil {
		t.Fatal(err)
	}
	it = exchange()
	rule.Sanitize(it, redact.SanitizeOptions{Bodies: true, IsText: func(http.Header) bool { return true }})
	if n := strings.Count(it.Response.Body, `"name":"Sanitized"`); n != depth {
		t.Errorf("BodyKeySanitizer $..name: %d of %d names sanitized", n, depth)
	}

	cfg, err := redact.ParseConfig("c.yaml", []byte("redact:\n  rules:\n    - json_path: $..v\n      replace: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := cfg.Redact.Redactor()
	if err != nil {
		t.Fatal(err)
	}
	it = exchange()
	rules.Interaction(it)
	if n := strings.Count(it.Response.Body, `"v":"x"`); n != depth {
		t.Errorf("config json_path $..v: %d of %d values replaced", n, depth)
	}
}

// BenchmarkRedactDeepJSON redacts a document at two depths ten times apart; make bench checks
// the times stay near ten times apart too (linear), not a hundred (quadratic).
func BenchmarkRedactDeepJSON(b *testing.B) {
	rule, err := redact.NewSanitizerRule(redact.Sanitizer{Kind: "BodyKeySanitizer", Parts: redact.PartBody, JSONPath: "$..name", Value: "Sanitized"})
	if err != nil {
		b.Fatal(err)
	}
	for _, depth := range []int{2_000, 20_000} {
		body := nested(depth)
		b.Run(fmt.Sprintf("depth=%dk", depth/1000), func(b *testing.B) {
			r := redact.DefaultRules()
			for b.Loop() {
				it := &cassette.Interaction{Response: cassette.Response{Code: 200, Body: body, Headers: http.Header{"Content-Type": {"application/json"}}}}
				r.Interaction(it)
				rule.Sanitize(it, redact.SanitizeOptions{Bodies: true, IsText: func(http.Header) bool { return true }})
			}
		})
	}
}
