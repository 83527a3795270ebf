package redact

import (
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// The headers a match reads in these tests: matcher.SignificantHeaders' kind, and Content-Type.
var probeReads = map[string]bool{"Content-Type": true, "X-Ms-Documentdb-Partitionkey": true, "X-Ms-Continuation": true, "Prefer": true}

const (
	probeSub    = "6f2b4a51-93c4-4a0e-9b1d-2c7f0d8e1a3b"
	probeTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	probeOther  = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
)

// probeCorpus is a session's live requests: secrets and ids in every part, ids that only a
// header teaches (plain, URL-encoded, in an authorization header) and that later requests carry
// where nothing else teaches them.
func probeCorpus() []cassette.Request {
	jwt := "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiI3MmY5ODhiZiJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
	cosmosAuth := url.QueryEscape("type=master&ver=1.0&sig=K2l4bW9yZXNlY3JldHNpZ25hdHVyZXNsb25nZW5vdWdo")
	return []cassette.Request{
		{Method: "GET", URL: "https://a.documents.azure.com/dbs/db/colls/c/docs/item-1", Headers: http.Header{
			"Authorization": {cosmosAuth}, "X-Ms-Date": {"Thu, 13 Nov 2025 10:00:00 GMT"}, "X-Ms-Activity-Id": {probeOther},
			"X-Ms-Documentdb-Partitionkey": {`["tenant-a"]`}, "User-Agent": {"azsdk-go-azcosmos/v1.5.0"}}},
		{Method: "GET", URL: "https://management.azure.com/providers?api-version=1", Headers: http.Header{
			"Authorization": {"Bearer " + jwt}, "Referer": {"https://portal.azure.com/#@x/resource/subscriptions/" + probeSub + "/overview"},
			"X-Ms-Client-Request-Id": {probeOther}}},
		{Method: "POST", URL: "https://a.documents.azure.com/dbs/db/colls/c/docs", Body: `{"query":"SELECT * FROM c WHERE c.owner = @o","parameters":[{"name":"@o","value":"` + probeSub + `"}]}`,
			Headers: http.Header{"Content-Type": {"application/query+json"}, "X-Ms-Documentdb-Isquery": {"True"}, "Authorization": {cosmosAuth}}},
		{Method: "GET", URL: "https://a.documents.azure.com/dbs", Headers: http.Header{
			"X-Custom-Origin": {"https%3A%2F%2Flogin.microsoftonline.com%2F" + probeTenant + "%2Foauth2"},
			"Authorization":   {"type%3Dtenants%252F" + probeOther + "%26sig%3Dabc"}}},
		{Method: "PUT", URL: "https://a.documents.azure.com/dbs/db/colls/c/docs/" + probeTenant + "?x=" + probeOther,
			Body: `{"id":"x","owner":"` + strings.ToUpper(probeTenant) + `","other":"` + probeOther + `","password":"Zq8vL2mPx7RtW4kY9hNc"}`,
			Headers: http.Header{"Content-Type": {"application/json"}, "Prefer": {"return=minimal"}, "Cookie": {"session=abc; tenantId=" + probeOther},
				"X-Api-Key": {"Zq8vL2mPx7RtW4kY9hNcZq8vL2mPx7"}, "X-Ms-Documentdb-Partitionkey": {`["` + probeOther + `"]`}}},
		{Method: "GET", URL: "https://a.documents.azure.com/dbs/db/colls/c/docs?sig=abcdefghijklmnopqrstuv&tenant=" + probeOther,
			Headers: http.Header{"X-Ms-Continuation": {`{"token":"-RID:~abc==#RT:1","range":{"min":"","max":"FF"}}`}, "Connection": {"close, X-Drop"}, "X-Drop": {"1"},
				"x-ms-documentdb-partitionkey": {`["lower-case name"]`}}},
	}
}

func cloneProbeRequest(r cassette.Request) cassette.Request {
	r.Headers = r.Headers.Clone()
	return r
}

// probeOf is the request with the headers a match does not read and omit lets go left out.
func probeOf(r cassette.Request, omit func(string, []string) bool) cassette.Request {
	r = cloneProbeRequest(r)
	for k, v := range r.Headers {
		if !probeReads[http.CanonicalHeaderKey(k)] && omit(k, v) {
			delete(r.Headers, k)
		}
	}
	return r
}

// compareProbe fails unless the probe's every part is what full redaction made of it.
func compareProbe(t *testing.T, i int, full, probe cassette.Request) {
	t.Helper()
	if full.URL != probe.URL || full.Host != probe.Host || full.Body != probe.Body || full.Method != probe.Method || full.ContentLength != probe.ContentLength {
		t.Errorf("request %d: the probe redacts to %+v, the whole request to %+v", i, probe, full)
	}
	for k, v := range probe.Headers {
		if !slices.Equal(full.Headers[k], v) {
			t.Errorf("request %d: header %s is %q in the probe, %q in the whole request", i, k, v, full.Headers[k])
		}
	}
	for k := range full.Headers {
		if probeReads[http.CanonicalHeaderKey(k)] && probe.Headers[k] == nil {
			t.Errorf("request %d: the probe lost header %s, which the match reads", i, k)
		}
	}
}

func learned(r Redactor) map[string]bool {
	for _, rule := range r {
		if a, ok := rule.(*azureIDRule); ok {
			a.mu.Lock()
			defer a.mu.Unlock()
			return maps.Clone(a.ids)
		}
	}
	return nil
}

// Redacting only the headers a match reads, and those Omittable keeps, redacts every part the
// match reads as redacting the whole request does, over a session of requests (azure-ids
// learns as it goes), for the rule sets azvcr builds.
func TestOmittableLeavesMatchingAlone(t *testing.T) {
	config := func(c RedactConfig) func() Redactor {
		return func() Redactor {
			r, err := c.Redactor()
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	sets := []struct {
		name  string
		rules func() Redactor
		fast  bool // Omittable lets headers go
	}{
		{"default rules", DefaultRules, true},
		{"without azure-ids", config(RedactConfig{Disable: []string{"azure-ids"}}), true},
		{"user rules and kept headers", config(RedactConfig{KeepHeaders: []string{"X-Ms-Date", "X-Ms-Documentdb-Partitionkey"}, Rules: []UserRule{
			{Header: "X-Custom-Origin", Replace: "tenants/" + probeOther}, {JSONPath: "$.owner", Replace: "x"}, {URL: "host", Match: `^a\.`, Replace: "b."},
			{URL: "query", Param: "tenant", Replace: "t"}}}), true},
		{"user regex", config(RedactConfig{Rules: []UserRule{{Regex: "tenant", Replace: "tenants/"}}}), true}, // after azure-ids: harmless
		{"a header rule that writes an id before azure-ids", func() Redactor {
			return append(Redactor{HeaderRule{RuleName: "x", Headers: []string{"User-Agent"}, Value: "subscriptions/" + probeOther}}, DefaultRules()...)
		}, false},
		{"a regex rule before azure-ids", func() Redactor {
			return append(Redactor{regexRule{name: "x", re: regexp.MustCompile("agent"), replace: "tenants/", where: everywhere}}, DefaultRules()...)
		}, false},
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			full, fast := set.rules(), set.rules()
			omit := fast.Omittable()
			if (omit != nil) != set.fast {
				t.Fatalf("Omittable is nil: %v, want %v", omit == nil, !set.fast)
			}
			if omit == nil {
				return
			}
			left := 0
			for i, req := range probeCorpus() {
				whole := cloneProbeRequest(req)
				full.Request(&whole)
				probe := probeOf(req, omit)
				left += len(req.Headers) - len(probe.Headers)
				fast.Request(&probe)
				compareProbe(t, i, whole, probe)
			}
			if a, b := learned(full), learned(fast); !maps.Equal(a, b) {
				t.Errorf("the whole requests taught azure-ids %v, the probes %v", a, b)
			}
			if left == 0 {
				t.Error("no header was left out: the test shows nothing")
			}
		})
	}
}

// Headers that teach azure-ids an id, as written or as the authorization rule decodes them, are
// kept; others go.
func TestOmittableKeepsWhatTeaches(t *testing.T) {
	omit := DefaultRules().Omittable()
	for _, c := range []struct {
		name, value string
		keep        bool
	}{
		{"Referer", "https://x/subscriptions/" + probeSub, true},
		{"X-Origin", "https%3A%2F%2Flogin.microsoftonline.com%2F" + probeTenant, true},
		{"Authorization", "type%3Dtenants%2F" + probeTenant + "%26sig%3Dabc", true},
		{"X-Claims", `{"TID":"` + probeTenant + `"}`, true},
		{"Authorization", url.QueryEscape("type=master&ver=1.0&sig=abc"), false},
		{"X-Ms-Date", "Thu, 13 Nov 2025 10:00:00 GMT", false},
		{"X-Bad-Escape", "%zz tenant", false},
	} {
		if got := !omit(c.name, []string{"x", c.value}); got != c.keep {
			t.Errorf("%s: %q kept %v, want %v", c.name, c.value, got, c.keep)
		}
	}
}

// FuzzOmittable: for any header, URL and body, a probe redacts what a match reads as the
// whole request does, and teaches azure-ids the same, also for a request after it.
func FuzzOmittable(f *testing.F) {
	f.Add("Referer", "https://x/subscriptions/"+probeSub, "https://m/a?b=c", `{"a":"`+probeSub+`"}`)
	f.Add("Authorization", "type%3Dtenants%252F"+probeTenant+"%26sig%3Dabc", "https://m/tenants/"+probeOther, "")
	f.Add("X-Api-Key", "Zq8vL2mPx7RtW4kY9hNcZq8vL2mPx7", "https://m/x/"+probeOther, `{"tenantId":"`+probeOther+`"}`)
	f.Add("Cookie", `a=b; "tid":"`+probeTenant+`"`, "https://m/", "x="+probeTenant)
	f.Fuzz(func(t *testing.T, name, value, u, body string) {
		if !validHeaderName(name) {
			return
		}
		full, fast := DefaultRules(), DefaultRules()
		omit := fast.Omittable()
		reqs := []cassette.Request{
			{Method: "POST", URL: u, Body: body, Headers: http.Header{name: {value}, "X-Ms-Documentdb-Partitionkey": {value}, "Content-Type": {"application/json"}}},
			{Method: "GET", URL: "https://m/" + probeSub + "/" + probeTenant + "/" + probeOther + "?" + value, Body: body + value,
				Headers: http.Header{"Prefer": {body}, "X-Other": {u}}},
		}
		for i, req := range reqs {
			whole := cloneProbeRequest(req)
			full.Request(&whole)
			probe := probeOf(req, omit)
			fast.Request(&probe)
			compareProbe(t, i, whole, probe)
		}
		if a, b := learned(full), learned(fast); !maps.Equal(a, b) {
			t.Errorf("the whole requests taught azure-ids %v, the probes %v", a, b)
		}
	})
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
