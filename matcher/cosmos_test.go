package matcher

import (
	"net/http"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

const docsURL = acct + "/dbs/d/colls/c/docs"

func queryRequest(body string, headers ...string) *cassette.Request {
	return req("POST", docsURL, body, append([]string{"Content-Type", "application/query+json", "X-Ms-Documentdb-Isquery", "True"}, headers...)...)
}

// page is a recorded query page that issues next as its continuation token.
func page(id int, r *cassette.Request, next string) *cassette.Interaction {
	it := interaction(id, r, "page")
	it.Response.Headers = http.Header{}
	if next != "" {
		it.Response.Headers.Set("X-Ms-Continuation", next)
	}
	return it
}

const minQuery = `{"query":"SELECT * FROM c WHERE c.n >= @min","parameters":[{"name":"@min","value":6}]}`

// TestCosmosMissDiagnostics asserts the message for each way a Cosmos request can fail to match.
func TestCosmosMissDiagnostics(t *testing.T) {
	chain := []*cassette.Interaction{
		page(0, queryRequest(minQuery), "tok-1"),
		page(1, queryRequest(minQuery, "X-Ms-Continuation", "tok-1"), "tok-2"),
		page(2, queryRequest(minQuery, "X-Ms-Continuation", "tok-2"), "tok-3"),
	}
	tests := []struct {
		name   string
		live   *cassette.Request
		reason string
		diffs  []string
	}{
		{
			name:   "parameter value",
			live:   queryRequest(`{"query":"SELECT * FROM c WHERE c.n >= @min","parameters":[{"name":"@min","value":5}]}`),
			reason: "no recorded interaction matches this request",
			diffs:  []string{"parameter @min is 5 in the request and 6 in the cassette"},
		},
		{
			name:   "sql text",
			live:   queryRequest(`{"query":"SELECT * FROM c WHERE c.n > @min ORDER BY c.n","parameters":[{"name":"@min","value":6}]}`),
			reason: "no recorded interaction matches this request",
			diffs:  []string{`query text differs at token 9: request "... c.n > @min ORDER BY c.n", recorded "... c.n >= @min"`},
		},
		{
			name:   "missing parameter",
			live:   queryRequest(`{"query":"SELECT * FROM c WHERE c.n >= @min"}`),
			reason: "no recorded interaction matches this request",
			diffs:  []string{"parameter @min: absent in the request, 6 in the cassette"},
		},
		{
			name:   "continuation token never issued",
			live:   queryRequest(minQuery, "X-Ms-Continuation", "tok-forged"),
			reason: `continuation token "tok-forged" was not issued by any recorded response`,
		},
		{
			name:   "page past the recorded chain",
			live:   queryRequest(minQuery, "X-Ms-Continuation", "tok-3"),
			reason: "page 4 of this query was requested, but the recorded chain has 3: recording #2 (page 3) issued this continuation token and page 4 was never recorded",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := mustIndex(t, chain...)
			m := mustMiss(t, x, tt.live)
			if m.Reason != tt.reason {
				t.Errorf("reason\n got %q\nwant %q", m.Reason, tt.reason)
			}
			if tt.diffs != nil && strings.Join(m.Differences, "\n") != strings.Join(tt.diffs, "\n") {
				t.Errorf("differences\n got %q\nwant %q", m.Differences, tt.diffs)
			}
			if m.Closest == nil {
				t.Error("no closest recording named")
			}
		})
	}
}

func TestAllUsedSaysHowMany(t *testing.T) {
	del := req("DELETE", docsURL+"/x", "", "X-Ms-Documentdb-Partitionkey", `["a"]`)
	x := mustIndex(t, interaction(0, del, ""), interaction(1, del, ""))
	mustNext(t, x, del, 0)
	mustNext(t, x, del, 1)
	if m := mustMiss(t, x, del); m.Reason != "all 2 recorded answers for this request were already used" {
		t.Errorf("reason %q", m.Reason)
	}
}

// Continuation chains replay in order however queries interleave.
func TestContinuationChainsInterleave(t *testing.T) {
	other := `{"query":"SELECT * FROM c WHERE c.pk = @pk","parameters":[{"name":"@pk","value":"b"}]}`
	x := mustIndex(t,
		page(0, queryRequest(minQuery), "a1"),
		page(1, queryRequest(other), "b1"),
		page(2, queryRequest(minQuery, "X-Ms-Continuation", "a1"), ""),
		page(3, queryRequest(other, "X-Ms-Continuation", "b1"), ""),
		page(4, queryRequest(minQuery), "a1"), // the same query run again later
		page(5, queryRequest(minQuery, "X-Ms-Continuation", "a1"), ""),
	)
	mustNext(t, x, queryRequest(other), 1)
	mustNext(t, x, queryRequest(minQuery), 0)
	mustNext(t, x, queryRequest(other, "X-Ms-Continuation", "b1"), 3)
	mustNext(t, x, queryRequest(minQuery, "X-Ms-Continuation", "a1"), 2)
	mustNext(t, x, queryRequest(minQuery), 4)
	mustNext(t, x, queryRequest(minQuery, "X-Ms-Continuation", "a1"), 5)
}

// pk-range reads answer 200 then 304 as recorded: If-None-Match is part of the key.
func TestPartitionKeyRangesIncrementalFeed(t *testing.T) {
	pkr := acct + "/dbs/d/colls/c/pkranges"
	first := req("GET", pkr, "", "A-Im", "Incremental Feed")
	again := req("GET", pkr, "", "A-Im", "Incremental Feed", "If-None-Match", `"etag-1"`)
	ok, notModified := interaction(0, first, "ranges"), interaction(1, again, "")
	notModified.Response.Code = 304
	x := mustIndex(t, ok, notModified)
	mustNext(t, x, first, 0)
	mustNext(t, x, again, 1)
	mustNext(t, x, again, 1) // metadata reads repeat their last answer
	mustNext(t, x, first, 0)
}

func TestRepeatPolicy(t *testing.T) {
	account := req("GET", acct+"/", "")
	coll := req("GET", acct+"/dbs/d/colls/c", "")
	item := req("GET", docsURL+"/x", "", "X-Ms-Documentdb-Partitionkey", `["a"]`)
	tests := []struct {
		policy Repeat
		r      *cassette.Request
		repeat bool
	}{
		{RepeatMetadata, account, true},
		{RepeatMetadata, coll, true},
		{RepeatMetadata, req("GET", acct+"/dbs/d", ""), true},
		{RepeatMetadata, item, false},
		{RepeatMetadata, req("POST", acct+"/dbs", `{"id":"d"}`), false},
		{RepeatNone, account, false},
		{RepeatAll, item, true},
	}
	for _, tt := range tests {
		x, err := New([]*cassette.Interaction{interaction(7, tt.r, "x")}, WithRepeat(tt.policy))
		if err != nil {
			t.Fatal(err)
		}
		mustNext(t, x, tt.r, 7)
		it, _ := x.Next(tt.r)
		if (it != nil) != tt.repeat {
			t.Errorf("policy %d %s %s: repeated=%v, want %v", tt.policy, tt.r.Method, tt.r.URL, it != nil, tt.repeat)
		}
		if tt.repeat && x.Stats().Repeated != 1 {
			t.Errorf("Repeated = %d", x.Stats().Repeated)
		}
	}
	for _, s := range []string{"metadata", "none", "all"} {
		if _, err := ParseRepeat(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParseRepeat("sometimes"); err == nil {
		t.Error("ParseRepeat accepted nonsense")
	}
}

// Change feed reads replay in recorded order: the first read per range has no If-None-Match, each
// later one carries the etag the previous answer returned, and the last answer is 304.
func TestChangeFeedReplaysInOrder(t *testing.T) {
	feed := func(etag string) *cassette.Request {
		h := []string{"A-Im", "Incremental Feed", "X-Ms-Documentdb-Partitionkeyrangeid", "0", "X-Ms-Max-Item-Count", "10"}
		if etag != "" {
			h = append(h, "If-None-Match", etag)
		}
		return req("GET", docsURL, "", h...)
	}
	x := mustIndex(t,
		interaction(0, feed(""), "changes 1-10"),
		interaction(1, feed(`"10"`), "changes 11-15"),
		interaction(2, feed(`"15"`), ""),
		interaction(3, feed(`"15"`), ""), // polled again later: still nothing new
	)
	mustNext(t, x, feed(""), 0)
	mustNext(t, x, feed(`"10"`), 1)
	mustNext(t, x, feed(`"15"`), 2)
	mustNext(t, x, feed(`"15"`), 3)
	if m := mustMiss(t, x, feed(`"15"`)); !strings.Contains(m.Reason, "all 2 recorded answers") {
		t.Errorf("change feed is not metadata and must not repeat: %q", m.Reason)
	}
}

func TestIgnore(t *testing.T) {
	rec := req("POST", acct+"/x?api-version=1&sig=a", `{"a":1}`, "X-Ms-Max-Item-Count", "5")
	live := req("POST", acct+"/x?api-version=1&sig=b", `{"a":2}`, "X-Ms-Max-Item-Count", "9")
	tests := []struct {
		ig   Ignore
		same bool
	}{
		{Ignore{}, false},
		{Ignore{Body: true, Headers: true}, false}, // the sig query value still differs
		{Ignore{Body: true, Headers: true, QueryParams: []string{"SIG"}}, true},
		{Ignore{Body: true, HeaderNames: []string{"x-ms-max-item-count"}, QueryParams: []string{"sig"}}, true},
		{Ignore{HeaderNames: []string{"x-ms-max-item-count"}, QueryParams: []string{"sig"}}, false}, // body differs
	}
	for _, tt := range tests {
		x, err := New([]*cassette.Interaction{interaction(0, rec, "")}, WithIgnore(tt.ig))
		if err != nil {
			t.Fatal(err)
		}
		if it, _ := x.Next(live); (it != nil) != tt.same {
			t.Errorf("%+v: matched=%v, want %v", tt.ig, it != nil, tt.same)
		}
	}
}
