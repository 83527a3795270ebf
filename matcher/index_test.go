package matcher

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

func interaction(id int, r *cassette.Request, body string) *cassette.Interaction {
	return &cassette.Interaction{ID: id, Request: *r, Response: cassette.Response{Code: 200, Body: body}}
}

func mustIndex(t *testing.T, its ...*cassette.Interaction) *Index {
	t.Helper()
	x, err := New(its)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestIndexFIFO(t *testing.T) {
	poll := req("GET", acct+"/dbs/d/colls/c/docs/a", "", "X-Ms-Documentdb-Partitionkey", `["a"]`)
	x := mustIndex(t,
		interaction(0, poll, "first"),
		interaction(1, poll, "second"),
		interaction(2, poll, "third"),
	)
	for _, want := range []string{"first", "second", "third"} {
		// A live request differs in volatile headers only.
		live := req("get", "https://ACCT.documents.azure.com:443/dbs/d/colls/c/docs/a", "",
			"x-ms-documentdb-partitionkey", `["a"]`, "Authorization", "live", "X-Ms-Date", "now")
		it, miss := x.Next(live)
		if it == nil {
			t.Fatalf("want %q, got miss %v", want, miss)
		}
		if it.Response.Body != want {
			t.Fatalf("got %q, want %q", it.Response.Body, want)
		}
	}
	it, miss := x.Next(poll)
	if it != nil {
		t.Fatalf("fourth Next answered with #%d %q", it.ID, it.Response.Body)
	}
	if miss == nil {
		t.Fatal("fourth Next returned neither an interaction nor a miss")
	}
	if want := "all 3 recorded answers for this request were already used"; miss.Reason != want {
		t.Errorf("reason = %q, want %q", miss.Reason, want)
	}
	if miss.Closest == nil || miss.Closest.URL != poll.URL {
		t.Errorf("closest = %+v, want the poll itself", miss.Closest)
	}
	if len(miss.Differences) != 0 {
		t.Errorf("an exhausted request has no differences, got %q", miss.Differences)
	}
	if s := x.Stats(); s != (Stats{Recorded: 3, Replayed: 3, Unused: 0, Misses: 1}) {
		t.Errorf("stats = %+v", s)
	}
}

func TestIndexFIFOInterleaved(t *testing.T) {
	a := req("GET", acct+"/dbs/d/colls/c/docs/a", "")
	b := req("POST", acct+"/dbs/d/colls/c/docs", `{"query":"SELECT * FROM c"}`, "X-Ms-Documentdb-Isquery", "True")
	c := req("POST", acct+"/dbs/d/colls/c/docs", `{"query":"SELECT * FROM c"}`, "X-Ms-Documentdb-Isquery", "True", "X-Ms-Continuation", "page2")
	x := mustIndex(t,
		interaction(0, a, "a1"),
		interaction(1, b, "b1"),
		interaction(2, a, "a2"),
		interaction(3, c, "c1"),
		interaction(4, b, "b2"),
		interaction(5, a, "a3"),
	)
	// Ask in an order unlike the recording's; each key still gets its answers in recorded order.
	steps := []struct {
		r    *cassette.Request
		want string
	}{
		{b, "b1"}, {b, "b2"}, {a, "a1"}, {c, "c1"}, {a, "a2"}, {a, "a3"}, {b, ""}, {c, ""}, {a, ""},
	}
	for i, s := range steps {
		it, miss := x.Next(s.r)
		got := ""
		if it != nil {
			got = it.Response.Body
		}
		if got != s.want {
			t.Fatalf("step %d: got %q (miss %v), want %q", i, got, miss, s.want)
		}
		if s.want == "" && miss == nil {
			t.Fatalf("step %d: no interaction and no miss", i)
		}
	}
	if s := x.Stats(); s != (Stats{Recorded: 6, Replayed: 6, Unused: 0, Misses: 3}) {
		t.Errorf("stats = %+v", s)
	}
}

func TestIndexConcurrentNext(t *testing.T) {
	const entries, workers, keys = 1000, 32, 37
	requests := make([]*cassette.Request, keys)
	for k := range requests {
		switch k % 3 {
		case 0:
			requests[k] = req("GET", fmt.Sprintf("%s/dbs/d/colls/c/docs/%d", acct, k), "")
		case 1:
			requests[k] = req("POST", acct+"/dbs/d/colls/c/docs", fmt.Sprintf(`{"query":"SELECT * FROM c","n":%d}`, k))
		default:
			requests[k] = req("GET", acct+"/dbs/d/colls/c/docs", "", "X-Ms-Continuation", fmt.Sprint(k))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var its []*cassette.Interaction
	var live []*cassette.Request // one live request per recorded entry
	for i := 0; i < entries; i++ {
		k := rng.IntN(keys)
		its = append(its, interaction(i, requests[k], fmt.Sprint(i)))
		live = append(live, requests[k])
	}
	rng.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
	x := mustIndex(t, its...)

	work := make(chan *cassette.Request)
	var mu sync.Mutex
	var got []int
	misses := 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				it, _ := x.Next(r)
				mu.Lock()
				if it == nil {
					misses++
				} else {
					got = append(got, it.ID)
				}
				mu.Unlock()
			}
		}()
	}
	for _, r := range live {
		work <- r
	}
	close(work)
	wg.Wait()

	if misses != 0 {
		t.Fatalf("%d misses", misses)
	}
	if len(got) != entries {
		t.Fatalf("handed out %d entries, want %d", len(got), entries)
	}
	slices.Sort(got)
	for i, id := range got {
		if id != i {
			t.Fatalf("entry %d handed out wrongly (sorted ids around it: %v)", i, got[max(0, i-2):min(len(got), i+3)])
		}
	}
	if s := x.Stats(); s != (Stats{Recorded: entries, Replayed: entries}) {
		t.Errorf("stats = %+v", s)
	}
	if it, miss := x.Next(requests[0]); it != nil || miss == nil {
		t.Errorf("after every entry was handed out, Next = %v, %v", it, miss)
	}
}

// Concurrent Next on one key must still hand answers out in recorded order.
func TestIndexConcurrentSameKeyOrder(t *testing.T) {
	r := req("GET", acct+"/dbs", "")
	const n = 200
	var its []*cassette.Interaction
	for i := 0; i < n; i++ {
		its = append(its, interaction(i, r, fmt.Sprint(i)))
	}
	x := mustIndex(t, its...)
	var wg sync.WaitGroup
	results := make([][]int, 8)
	for w := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/len(results); i++ {
				it, miss := x.Next(r)
				if it == nil {
					t.Errorf("miss: %v", miss)
					return
				}
				results[w] = append(results[w], it.ID)
			}
		}()
	}
	wg.Wait()
	var all []int
	for w, ids := range results {
		// Each goroutine's own calls are sequential, so its ids must increase.
		if !slices.IsSorted(ids) {
			t.Errorf("goroutine %d got ids out of order: %v", w, ids)
		}
		all = append(all, ids...)
	}
	slices.Sort(all)
	distinct := slices.Compact(slices.Clone(all))
	if len(all) != n || len(distinct) != n || distinct[0] != 0 || distinct[n-1] != n-1 {
		t.Errorf("handed out %d ids, %d distinct, want each of 0..%d once", len(all), len(distinct), n-1)
	}
}

func TestIndexStatsUnusedAddUsed(t *testing.T) {
	a := req("GET", acct+"/dbs/a", "")
	b := req("GET", acct+"/dbs/b", "")
	c := req("GET", acct+"/dbs/c", "")
	d := req("DELETE", acct+"/dbs/d", "")
	x := mustIndex(t, interaction(0, a, ""), interaction(1, b, ""), interaction(2, c, ""), interaction(3, a, ""))

	if s := x.Stats(); s != (Stats{Recorded: 4, Unused: 4}) {
		t.Fatalf("fresh stats = %+v", s)
	}
	if ids := idsOf(x.Unused()); !slices.Equal(ids, []int{0, 1, 2, 3}) {
		t.Fatalf("fresh unused = %v", ids)
	}

	mustNext(t, x, a, 0)
	mustNext(t, x, c, 2)
	if _, miss := x.Next(d); miss == nil {
		t.Fatal("unrecorded request answered")
	}
	if s := x.Stats(); s != (Stats{Recorded: 4, Replayed: 2, Unused: 2, Misses: 1}) {
		t.Errorf("stats = %+v", s)
	}
	if ids := idsOf(x.Unused()); !slices.Equal(ids, []int{1, 3}) {
		t.Errorf("unused = %v, want [1 3] in cassette order", ids)
	}

	// A request recorded during the session counts as recorded and replayed, never as unused,
	// and is not handed out again.
	if err := x.AddUsed(interaction(4, d, "")); err != nil {
		t.Fatal(err)
	}
	if s := x.Stats(); s != (Stats{Recorded: 5, Replayed: 3, Unused: 2, Misses: 1}) {
		t.Errorf("stats after AddUsed = %+v", s)
	}
	if ids := idsOf(x.Unused()); !slices.Equal(ids, []int{1, 3}) {
		t.Errorf("unused after AddUsed = %v", ids)
	}
	it, miss := x.Next(d)
	if it != nil {
		t.Fatalf("AddUsed interaction handed out: #%d", it.ID)
	}
	if miss.Reason != "all 1 recorded answers for this request were already used" || miss.Closest == nil || miss.Closest.ID != 4 {
		t.Errorf("miss = %+v (closest %+v)", miss, miss.Closest)
	}
	if s := x.Stats(); s.Misses != 2 {
		t.Errorf("misses = %d, want 2", s.Misses)
	}

	// The remaining entries are still served.
	mustNext(t, x, b, 1)
	mustNext(t, x, a, 3)
	if s := x.Stats(); s != (Stats{Recorded: 5, Replayed: 5, Unused: 0, Misses: 2}) {
		t.Errorf("final stats = %+v", s)
	}
	if u := x.Unused(); len(u) != 0 {
		t.Errorf("unused = %v, want none", idsOf(u))
	}

	if err := x.AddUsed(&cassette.Interaction{ID: 9, Request: *req("GET", "http://[::1", "")}); err == nil {
		t.Error("AddUsed accepted an unparsable URL")
	}
}

func TestIndexEmpty(t *testing.T) {
	x := mustIndex(t)
	if s := x.Stats(); s != (Stats{}) {
		t.Errorf("stats = %+v", s)
	}
	if u := x.Unused(); u != nil {
		t.Errorf("unused = %v", u)
	}
}

func mustNext(t *testing.T, x *Index, r *cassette.Request, wantID int) {
	t.Helper()
	it, miss := x.Next(r)
	if it == nil {
		t.Fatalf("Next(%s %s): miss %v", r.Method, r.URL, miss)
	}
	if it.ID != wantID {
		t.Fatalf("Next(%s %s) = #%d, want #%d", r.Method, r.URL, it.ID, wantID)
	}
}

func idsOf(its []Unused) []int {
	var ids []int
	for _, it := range its {
		ids = append(ids, it.ID)
	}
	return ids
}

func TestRecordsHost(t *testing.T) {
	x, err := New([]*cassette.Interaction{
		{Request: cassette.Request{Method: "GET", URL: "https://Acct.Documents.Azure.com:443/dbs"}},
		{Request: cassette.Request{Method: "GET", URL: "http://[::1]:8081/x"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{"acct.documents.azure.com:443": true, "ACCT.documents.azure.com": true, "acct.documents.azure.com.": true,
		"[::1]:9": true, "::1": true, "other.documents.azure.com": false, "example.com:443": false} {
		if got := x.RecordsHost(host); got != want {
			t.Errorf("RecordsHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// A large cassette is keyed on every core, in order: its entries queue in cassette order and a
// recording that cannot be keyed is reported, the first of them when there are several.
func TestIndexLargeInOrder(t *testing.T) {
	var its []*cassette.Interaction
	for i := range 3000 {
		its = append(its, interaction(i, req("GET", fmt.Sprintf("%s/dbs/d/colls/c/docs/%d", acct, i%7), ""), fmt.Sprint(i)))
	}
	x := mustIndex(t, its...)
	for i := range 3000 {
		it, miss := x.Next(req("GET", fmt.Sprintf("%s/dbs/d/colls/c/docs/%d", acct, i%7), ""))
		if it == nil || it.ID != i {
			t.Fatalf("request %d answered by %+v (miss %v); want recording %d", i, it, miss, i)
		}
	}
	bad := slices.Clone(its)
	for _, at := range []int{2900, 1700} {
		r := bad[at].Request
		r.URL = fmt.Sprintf("https://h/%%zz%d", at)
		bad[at] = interaction(at, &r, "")
	}
	if _, err := New(bad); err == nil || !strings.Contains(err.Error(), "%zz1700") {
		t.Errorf("error %v; want the first recording that cannot be keyed (%%zz1700)", err)
	}
}

// The tables that explain a miss are built at the first one; recordings added before it and
// after it are both among the candidates.
func TestMissCandidatesFollowAddUsed(t *testing.T) {
	for _, missFirst := range []bool{false, true} {
		x := mustIndex(t, interaction(0, req("GET", acct+"/dbs/a/colls/x/docs/1", ""), ""), interaction(1, req("POST", acct+"/dbs/a/colls/x/docs", `{"id":"q"}`), ""))
		if missFirst {
			if _, miss := x.Next(req("DELETE", acct+"/dbs/z", "")); miss == nil {
				t.Fatal("unrecorded request answered")
			}
		}
		if err := x.AddUsed(interaction(5, req("GET", acct+"/dbs/b/colls/y/docs/1", ""), "")); err != nil {
			t.Fatal(err)
		}
		_, miss := x.Next(req("GET", acct+"/dbs/b/colls/y/docs/2", ""))
		if miss == nil || miss.Closest == nil || miss.Closest.ID != 5 {
			t.Errorf("miss first %v: miss %+v; want recording 5 (same collection) closest", missFirst, miss)
		}
	}
}

// TestIndexHoldsLittle: an index keeps, beside the recordings it was given, a small entry each
// (the key as 128 bits, the body's digest), not the parts and canonical text of every request:
// at 100,000 recordings those were most of replay's memory. A miss makes the parts again.
func TestIndexHoldsLittle(t *testing.T) {
	const n = 4000
	var its []*cassette.Interaction
	for i := range n {
		// One query text, run with other parameters, as suites do (its tokens are remembered once).
		q := fmt.Sprintf(`{"query":"SELECT * FROM c WHERE c.customerId = @id AND c.n > @n ORDER BY c._ts DESC","parameters":[{"name":"@id","value":"cust-%04d"},{"name":"@n","value":%d}]}`, i, i)
		its = append(its, interaction(i, req("POST", fmt.Sprintf("%s/dbs/d/colls/c%d/docs?x=%d", acct, i%50, i), q,
			"Content-Type", "application/query+json", "X-Ms-Documentdb-Partitionkey", fmt.Sprintf(`["tenant-%d"]`, i%7)), ""))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := mustIndex(t, its...)
	runtime.GC()
	runtime.ReadMemStats(&after)
	perRecording := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	if perRecording > 400 {
		t.Errorf("the index holds %d bytes per recording, want at most 400", perRecording)
	}
	// The parts made again at a miss explain it as before.
	m := mustMiss(t, x, req("POST", acct+"/dbs/d/colls/c7/docs?x=7", strings.Replace(string(its[7].Request.Body), `"value":7}`, `"value":8}`, 1),
		"Content-Type", "application/query+json", "X-Ms-Documentdb-Partitionkey", `["tenant-0"]`))
	if m.Closest == nil || m.Closest.ID != 7 || len(m.Differences) == 0 {
		t.Fatalf("miss %+v", m)
	}
	for _, d := range m.Differences {
		if !strings.Contains(d, "8") && !strings.Contains(d, "7") {
			t.Errorf("difference %q names neither value", d)
		}
	}
	runtime.KeepAlive(x)
}
