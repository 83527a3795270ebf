package redact

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// A literal run edits as its rules one by one do, where one rule's edit gives the next what it
// needs, a body's new length changes a Content-Length the next rule looks at, and rules look at
// parts the others do not.
func TestLitRunAsOneByOne(t *testing.T) {
	all := PartURI | PartHeaders | PartBody
	specs := []Sanitizer{
		{Parts: all, FirstValue: true, Regex: `SharedAccessKey=(?<key>[^;"]+)`, Group: "key", Value: "Sanitized"},
		{Parts: all, FirstValue: true, Regex: `(?:[?&](sig|sv)=)(?<secret>[^&"\s\n,\\]+)`, Group: "secret", Value: "Sanitized"},
		{Parts: PartBody, Literal: "Sanitized", Value: "token=abc"},
		{Parts: all, FirstValue: true, Regex: `token=(?<token>[^&"\s\n,\\]+)`, Group: "token", Value: "T"},
		{Parts: PartHeaders, FirstValue: true, Regex: `^1\d$`, Value: "ten-something"},
		{Parts: PartURI, Literal: "/x/", Value: "/y/"},
		{Parts: PartBody, Regex: `(?:Password=)(?<pwd>.+?)(?:;)`, Group: "pwd", Value: "p"},
		{Parts: all, FirstValue: true, Regex: `text/(plain)`, Value: "application/json"},
	}
	rules := compileRules(t, specs)
	set := NewSanitizerSet(rules)
	if len(set.steps) != 1 || set.steps[0].lits == nil {
		t.Fatalf("the rules are not one literal run: %+v", set.steps)
	}
	// The same rules as two runs around a header rule: the runs share one literal set, and the second
	// sees what the first remembered of texts, changed or not.
	between, err := NewSanitizerRule(Sanitizer{Parts: PartHeaders, Header: "X-Sas", Regex: "sig", Value: "token=x"})
	if err != nil {
		t.Fatal(err)
	}
	split := append(append(append([]*SanitizerRule{}, rules[:4]...), between), rules[4:]...)
	splitSet := NewSanitizerSet(split)
	if len(splitSet.steps) != 3 || splitSet.steps[0].lits == nil || splitSet.steps[2].lits == nil || splitSet.steps[0].lits.set != splitSet.steps[2].lits.set {
		t.Fatalf("the rules are not two runs sharing a literal set: %+v", splitSet.steps)
	}
	isText := func(h http.Header) bool { return strings.Contains(h.Get("Content-Type"), "json") }
	urls := []string{"https://a/x/?sig=1&sv=2", "https://a/b", "https://a/b?token=q", ""}
	bodies := []string{"", "Sanitized", "SharedAccessKey=abcdefgh;", "Password=pw;Password=more;", "sig", "a=b&sv=c", "{}"}
	types := []string{"application/json", "text/plain", ""}
	for _, u := range urls {
		for _, b := range bodies {
			for _, ct := range types {
				for _, method := range []string{"GET", "HEAD"} {
					mk := func() *cassette.Interaction {
						return &cassette.Interaction{
							Request: cassette.Request{Method: method, URL: u, Body: b,
								Headers: http.Header{"Content-Type": {ct}, "Content-Length": {"9", "x"}, "X-Sas": {u, "sig=2"}}},
							Response: cassette.Response{Body: b + b,
								Headers: http.Header{"Content-Type": {ct}, "Content-Length": {"1"}, "Location": {b}}},
						}
					}
					for _, bodiesToo := range []bool{false, true} {
						o := SanitizeOptions{Bodies: bodiesToo, IsText: isText}
						for _, c := range []struct {
							set   *SanitizerSet
							rules []*SanitizerRule
						}{{set, rules}, {splitSet, split}} {
							got, want := mk(), mk()
							c.set.Sanitize(got, o)
							for _, r := range c.rules {
								r.Sanitize(want, o)
							}
							if !reflect.DeepEqual(got, want) {
								t.Errorf("%d rules: url %q body %q type %q %s bodies %v:\n got %+v\nwant %+v", len(c.rules), u, b, ct, method, bodiesToo, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// compileRules compiles specs, failing the test on an error.
func compileRules(t *testing.T, specs []Sanitizer) []*SanitizerRule {
	t.Helper()
	var rules []*SanitizerRule
	for _, s := range specs {
		r, err := NewSanitizerRule(s)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	return rules
}
