package redact

import (
	"testing"
)

// afterLeadsRules are rules whose regex is read as an afterLeads: test-proxy's host sanitizer and
// others of the form, with and without their group.
var afterLeadsRules = []Sanitizer{
	{Regex: `(?<=http://|https://)(?<host>[^/?\.]+)`, Group: "host", Value: SanitizedValue},
	{Regex: `(?<=a|ba|\|)(?<x>[^b\n\\]+)`, Group: "x", Value: "$1"},
	{Regex: `(?<=key=)[^;&]+`, Value: "Sanitized"},
	{Regex: `(?<=//)(?<h>[^/\.]+)`, Group: "h", Value: ""},
}

// The regexes read as afterLeads, and some that are not.
func TestParseAfterLeads(t *testing.T) {
	for _, s := range afterLeadsRules {
		if parseAfterLeads(s.Regex, s.Group) == nil {
			t.Errorf("%q (group %q) not read", s.Regex, s.Group)
		}
	}
	for _, tc := range []struct{ expr, group string }{
		{`(?<=http://|https://)(?<host>[^/?\.]+)`, "other"},
		{`(?<=http://|https://)(?<host>[^/?\.]+)`, ""},
		{`(?<=http://|)(?<host>[^/?\.]+)`, "host"},
		{`(?<=http.//)(?<host>[^/?\.]+)`, "host"},
		{`(?<=https?://)(?<host>[^/?\.]+)`, "host"},
		{`(?<=//)(?<h>[^a-z]+)`, "h"},
		{`(?<=//)(?<h>[^\s]+)`, "h"},
		{`(?<=//)(?<h>[^/]*)`, "h"},
		{`(?<=//)(?<h>[^/]+)x`, "h"},
		{`(?<=//)[^/]+`, "h"},
	} {
		if parseAfterLeads(tc.expr, tc.group) != nil {
			t.Errorf("%q (group %q) read as an afterLeads", tc.expr, tc.group)
		}
	}
}

// FuzzReplaceAfterLeads: replacing runs after leads edits a text as the regex engine does.
func FuzzReplaceAfterLeads(f *testing.F) {
	for _, s := range []string{"https://management.azure.com/x?y", "http://a.b https://c/d http://", "http://\xffé?x", "ahttps://b/http://c",
		"a1ba2|3\nbab", "key=1;key=;key=2&key", "////x//y.z", "", "https://", "xhttps://http://y"} {
		f.Add(s)
	}
	var rules []*SanitizerRule
	for _, s := range afterLeadsRules {
		s.Parts = PartURI
		r, err := NewSanitizerRule(s)
		if err != nil {
			f.Fatal(err)
		}
		if r.after == nil {
			f.Fatalf("%q is not read as an afterLeads", s.Regex)
		}
		rules = append(rules, r)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range rules {
			if got, want := r.replaceFast(s), r.replace(s); got != want {
				t.Errorf("%q on %q: %q, want %q", r.spec.Regex, s, got, want)
			}
		}
	})
}
