package matcher

import (
	"strings"
	"testing"
)

// An empty significant header value matches an absent one, both ways, and never panics.
func TestEmptySignificantHeaderIsAbsent(t *testing.T) {
	plain := req("GET", acct+"/dbs/d/colls/c/docs", "")
	empty := req("GET", acct+"/dbs/d/colls/c/docs", "", "X-Ms-Continuation", "")
	x := mustIndex(t, interaction(0, plain, "a"), interaction(1, empty, "b"))
	mustNext(t, x, empty, 0)
	mustNext(t, x, plain, 1)
	if m := mustMiss(t, x, empty); !strings.Contains(m.Reason, "all 2 recorded answers") {
		t.Errorf("reason %q", m.Reason)
	}
}

// AddUsed records a new interaction without hiding older unused ones of the same key.
func TestAddUsedKeepsUnusedRecordings(t *testing.T) {
	r := req("GET", acct+"/dbs", "")
	x := mustIndex(t, interaction(0, r, "a"), interaction(1, r, "b"))
	if err := x.AddUsed(interaction(2, r, "c")); err != nil {
		t.Fatal(err)
	}
	mustNext(t, x, r, 0)
	mustNext(t, x, r, 1)
	if m := mustMiss(t, x, r); !strings.Contains(m.Reason, "all 3 recorded answers") {
		t.Errorf("reason %q", m.Reason)
	}
	if s := x.Stats(); s.Unused != 0 || s.Replayed != 3 {
		t.Errorf("stats %+v", s)
	}
}

func TestCanonicalBodyEdgeCases(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{`{"n":1e999999999}`, `{"n":2e999999999}`, false}, // beyond float range: compared by value all the same
		{`{"n":1e999999999}`, `{"n":1e999999999}`, true},
		{`{"n":1e999999999}`, `{"n":10e999999998}`, true},
		{`{"s":"\u0001"}`, `{"s":"\u0001"}`, true},
		{`{"s":"a<b"}`, `{"s":"a\u003cb"}`, true},
	}
	for _, tt := range tests {
		if got := canonicalBody(tt.a) == canonicalBody(tt.b); got != tt.same {
			t.Errorf("%s vs %s: same=%v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
	// Canonical bodies stay JSON, so a diff can name the path even with control characters.
	a, _ := readBody(`{"s":"\u0001x"}`, false)
	b, _ := readBody(`{"s":"\u0001y"}`, false)
	m := bodyDiff(a, b)
	if len(m) != 1 || !strings.HasPrefix(m[0], "body $.s:") {
		t.Errorf("diff %q", m)
	}
}

// The closest recording to a request for another document is the same operation on the other
// document; a request that differs only in method is closest to the same document.
func TestClosestGradesPaths(t *testing.T) {
	docs := acct + "/dbs/d/colls/c/docs/"
	x := mustIndex(t,
		interaction(0, req("GET", docs+"x", ""), ""),
		interaction(1, req("DELETE", docs+"y", ""), ""),
		interaction(2, req("DELETE", acct+"/dbs/d", ""), ""),
	)
	if m := mustMiss(t, x, req("DELETE", docs+"x", "")); m.Closest.ID != 1 {
		t.Errorf("DELETE docs/x: closest #%d, want #1 (same operation, other id)", m.Closest.ID)
	}
	if m := mustMiss(t, x, req("PUT", docs+"y", "")); m.Closest.ID != 1 {
		t.Errorf("PUT docs/y: closest #%d, want #1 (same document)", m.Closest.ID)
	}
}
