package matcher

import (
	"fmt"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

func mustMiss(t *testing.T, x *Index, r *cassette.Request) *Miss {
	t.Helper()
	it, miss := x.Next(r)
	if it != nil {
		t.Fatalf("Next(%s %s) answered with #%d, want a miss", r.Method, r.URL, it.ID)
	}
	if miss == nil {
		t.Fatal("Next returned neither an interaction nor a miss")
	}
	if miss.Method != r.Method || miss.URL != r.URL {
		t.Errorf("miss names %s %s, want %s %s", miss.Method, miss.URL, r.Method, r.URL)
	}
	return miss
}

func containsAll(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("%s %q does not contain %q", what, text, p)
		}
	}
}

func TestMissDiagnostics(t *testing.T) {
	query := `{"query":"SELECT * FROM c WHERE c.id = @id","parameters":[{"name":"@id","value":"alpha"}]}`
	tests := []struct {
		name     string
		recorded *cassette.Request
		live     *cassette.Request
		diffs    []string // exact Differences
		mentions []string // substrings of String()
		reason   string   // when not the generic one
	}{
		{
			name:     "query parameter value",
			recorded: req("GET", acct+"/dbs?api-version=2020&top=10", ""),
			live:     req("GET", acct+"/dbs?top=25&api-version=2020", ""),
			diffs:    []string{`query parameter "top": request "25", recorded "10"`},
			mentions: []string{"top", `"25"`, `"10"`},
		},
		{
			name:     "query parameter absent",
			recorded: req("GET", acct+"/dbs?a=1", ""),
			live:     req("GET", acct+"/dbs?a=1&b=2", ""),
			diffs:    []string{`query parameter "b": request "2", recorded absent`},
		},
		{
			name:     "json body parameter value",
			recorded: req("POST", acct+"/dbs/d/colls/c/docs", query),
			live:     req("POST", acct+"/dbs/d/colls/c/docs", strings.Replace(query, "alpha", "beta", 1)),
			diffs:    []string{`body $.parameters[0].value: request "beta", recorded "alpha"`},
			mentions: []string{"$.parameters[0].value", `"beta"`, `"alpha"`},
		},
		{
			name:     "json body key absent",
			recorded: req("POST", acct+"/docs", `{"id":"a","n":{"x":1}}`),
			live:     req("POST", acct+"/docs", `{"id":"a","n":{"x":1,"y":[1,2]}}`),
			diffs:    []string{`body $.n.y: request [1,2], recorded absent`},
		},
		{
			name:     "json array length",
			recorded: req("POST", acct+"/docs", `{"a":[1,2,3]}`),
			live:     req("POST", acct+"/docs", `{"a":[1,9]}`),
			diffs:    []string{`body $.a: request has 2 elements, recorded 3`, `body $.a[1]: request 9, recorded 2`},
		},
		{
			name:     "json type change",
			recorded: req("POST", acct+"/docs", `{"a":{"b":1}}`),
			live:     req("POST", acct+"/docs", `{"a":[1]}`),
			diffs:    []string{`body $.a: request [1], recorded {"b":1}`},
		},
		{
			name:     "continuation header",
			recorded: req("GET", acct+"/dbs/d/colls/c/docs", "", "X-Ms-Continuation", "tok1"),
			live:     req("GET", acct+"/dbs/d/colls/c/docs", "", "x-ms-continuation", "tok2"),
			diffs:    []string{`header X-Ms-Continuation: request "tok2", recorded "tok1"`},
			mentions: []string{"X-Ms-Continuation", "tok1", "tok2"},
			reason:   `continuation token "tok2" was not issued by any recorded response`,
		},
		{
			name:     "header absent in request",
			recorded: req("GET", acct+"/dbs/d/colls/c/docs", "", "X-Ms-Max-Item-Count", "10"),
			live:     req("GET", acct+"/dbs/d/colls/c/docs", ""),
			diffs:    []string{`header X-Ms-Max-Item-Count: request absent, recorded "10"`},
		},
		{
			name:     "non-json body",
			recorded: req("PUT", acct+"/blob", "hello world"),
			live:     req("PUT", acct+"/blob", "hello there"),
			diffs:    []string{`body: first difference at byte 6: request "there", recorded "world"`},
		},
		{
			name:     "body missing",
			recorded: req("PUT", acct+"/blob", "abc"),
			live:     req("PUT", acct+"/blob", ""),
			diffs:    []string{`body: request has 0 bytes, recorded 3 bytes`},
		},
		{
			name:     "method",
			recorded: req("GET", acct+"/dbs", ""),
			live:     req("DELETE", acct+"/dbs", ""),
			diffs:    []string{`method: request "DELETE", recorded "GET"`},
		},
		{
			name:     "host",
			recorded: req("GET", "https://one.documents.azure.com/dbs", ""),
			live:     req("GET", "https://two.documents.azure.com:443/dbs", ""),
			diffs:    []string{`host: request "https://two.documents.azure.com", recorded "https://one.documents.azure.com"`},
		},
		{
			name:     "path",
			recorded: req("GET", acct+"/dbs/a", ""),
			live:     req("GET", acct+"/dbs/b", ""),
			diffs:    []string{`path: request "/dbs/b", recorded "/dbs/a"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := mustIndex(t, interaction(42, tc.recorded, "ok"))
			miss := mustMiss(t, x, tc.live)
			wantReason := "no recorded interaction matches this request"
			if tc.reason != "" {
				wantReason = tc.reason
			}
			if miss.Reason != wantReason {
				t.Errorf("reason = %q, want %q", miss.Reason, wantReason)
			}
			if miss.Closest == nil || miss.Closest.ID != 42 || miss.Closest.URL != tc.recorded.URL || miss.Closest.Method != tc.recorded.Method {
				t.Errorf("closest = %+v, want #42 %s %s", miss.Closest, tc.recorded.Method, tc.recorded.URL)
			}
			if strings.Join(miss.Differences, "\n") != strings.Join(tc.diffs, "\n") {
				t.Errorf("differences:\n got %q\nwant %q", miss.Differences, tc.diffs)
			}
			s := miss.String()
			containsAll(t, "String()", s, "closest recorded #42", "differs in")
			containsAll(t, "String()", s, tc.mentions...)
			containsAll(t, "String()", s, tc.diffs...)
		})
	}
}

func TestMissBodyDiffsCapped(t *testing.T) {
	var a, b []string
	for i := 0; i < 8; i++ {
		a = append(a, fmt.Sprintf(`"k%d":%d`, i, i))
		b = append(b, fmt.Sprintf(`"k%d":%d`, i, i+100))
	}
	x := mustIndex(t, interaction(1, req("POST", acct+"/docs", "{"+strings.Join(a, ",")+"}"), ""))
	miss := mustMiss(t, x, req("POST", acct+"/docs", "{"+strings.Join(b, ",")+"}"))
	if len(miss.Differences) != maxBodyDiffs+1 {
		t.Fatalf("differences = %q, want %d plus a summary", miss.Differences, maxBodyDiffs)
	}
	if got := miss.Differences[0]; got != "body $.k0: request 100, recorded 0" {
		t.Errorf("first difference = %q", got)
	}
	if got := miss.Differences[maxBodyDiffs]; got != "body: 3 more differences" {
		t.Errorf("last difference = %q", got)
	}
}

func TestMissEmptyCassette(t *testing.T) {
	x := mustIndex(t)
	miss := mustMiss(t, x, req("GET", acct+"/dbs", ""))
	if miss.Reason != "the cassette has no recorded interactions" {
		t.Errorf("reason = %q", miss.Reason)
	}
	if miss.Closest != nil || miss.Differences != nil {
		t.Errorf("closest %+v, differences %q; want none", miss.Closest, miss.Differences)
	}
	if got, want := miss.String(), "GET "+acct+"/dbs: the cassette has no recorded interactions"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestMissClosest(t *testing.T) {
	live := req("GET", acct+"/dbs/d/colls/c/docs/a?x=2", "", "X-Ms-Documentdb-Partitionkey", `["a"]`)
	tests := []struct {
		name   string
		its    []*cassette.Interaction
		wantID int
	}{
		{
			name: "same path beats same method on another path",
			its: []*cassette.Interaction{
				interaction(10, req("GET", acct+"/dbs/d/colls/c/docs/b?x=2", "", "X-Ms-Documentdb-Partitionkey", `["a"]`), ""),
				interaction(11, req("GET", acct+"/dbs/d/colls/c/docs/a?x=1", "", "X-Ms-Documentdb-Partitionkey", `["b"]`), ""),
				interaction(12, req("GET", acct+"/dbs/d/colls/other", "", "X-Ms-Documentdb-Partitionkey", `["a"]`), ""),
			},
			wantID: 11,
		},
		{
			name: "same method and path beat another method on the same path",
			its: []*cassette.Interaction{
				interaction(20, req("DELETE", acct+"/dbs/d/colls/c/docs/a?x=2", "", "X-Ms-Documentdb-Partitionkey", `["a"]`), ""),
				interaction(21, req("GET", acct+"/dbs/d/colls/c/docs/a", "", "X-Ms-Documentdb-Partitionkey", `["a"]`), ""),
			},
			wantID: 21,
		},
		{
			name: "same host beats another account",
			its: []*cassette.Interaction{
				interaction(30, req("GET", "https://other.documents.azure.com/dbs/d/colls/c/docs/a?x=2", "", "X-Ms-Documentdb-Partitionkey", `["a"]`), ""),
				interaction(31, req("GET", acct+"/dbs/d/colls/c/docs/zz?x=2", "", "X-Ms-Documentdb-Partitionkey", `["a"]`), ""),
			},
			wantID: 31,
		},
		{
			name: "fewer differences win",
			its: []*cassette.Interaction{
				interaction(40, req("GET", acct+"/dbs/d/colls/c/docs/a?x=3", ""), ""),
				interaction(41, req("GET", acct+"/dbs/d/colls/c/docs/a?x=3", "", "X-Ms-Documentdb-Partitionkey", `["a"]`), ""),
			},
			wantID: 41,
		},
		{
			name: "first in cassette order on a tie",
			its: []*cassette.Interaction{
				interaction(50, req("GET", acct+"/dbs/d/colls/c/docs/a?x=3", "", "X-Ms-Documentdb-Partitionkey", `["a"]`), ""),
				interaction(51, req("GET", acct+"/dbs/d/colls/c/docs/a?x=4", "", "X-Ms-Documentdb-Partitionkey", `["a"]`), ""),
			},
			wantID: 50,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := mustIndex(t, tc.its...)
			miss := mustMiss(t, x, live)
			if miss.Closest == nil {
				t.Fatal("no closest interaction")
			}
			if miss.Closest.ID != tc.wantID {
				t.Errorf("closest = #%d %s %s, want #%d (differences %q)", miss.Closest.ID, miss.Closest.Method, miss.Closest.URL, tc.wantID, miss.Differences)
			}
			containsAll(t, "String()", miss.String(), fmt.Sprintf("closest recorded #%d ", tc.wantID))
		})
	}
}

// On a tie, an interaction not yet used is a better hint than one already answered.
func TestMissClosestPrefersUnused(t *testing.T) {
	used := req("GET", acct+"/dbs?x=1", "")
	unused := req("GET", acct+"/dbs?x=2", "")
	x := mustIndex(t, interaction(7, used, ""), interaction(8, unused, ""))
	mustNext(t, x, used, 7)
	miss := mustMiss(t, x, req("GET", acct+"/dbs?x=3", ""))
	if miss.Closest == nil || miss.Closest.ID != 8 {
		t.Errorf("closest = %+v, want the unused #8", miss.Closest)
	}
	if len(miss.Differences) != 1 || !strings.Contains(miss.Differences[0], `request "3", recorded "2"`) {
		t.Errorf("differences = %q", miss.Differences)
	}
}
