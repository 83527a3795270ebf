package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/cosmosflow"
	"github.com/azvcr/azvcr/fixtures/cosmosquery"
	"github.com/azvcr/azvcr/fixtures/upstream"
	"github.com/azvcr/azvcr/forwardproxy"
	"github.com/azvcr/azvcr/matcher"
)

// replayRuns is how many fresh replaying servers answer the same sixteen concurrent queries.
const replayRuns = 5

// runQueriesConcurrently runs every query in its own goroutine, query i on container(i). All
// goroutines are started (in order) before any is released. after(i) gives query i's per-page
// hook; done, when not nil, is called as query i's goroutine ends, however it ends.
func runQueriesConcurrently(ctx context.Context, container func(i int) *azcosmos.ContainerClient, qs []cosmosquery.Query,
	order []int, after func(i int) func(page int), done func(i int)) ([][]cosmosquery.Page, []error) {
	pages := make([][]cosmosquery.Page, len(qs))
	errs := make([]error, len(qs))
	release := make(chan struct{})
	var wg sync.WaitGroup
	for _, i := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if done != nil {
				defer done(i)
			}
			<-release
			pages[i], errs[i] = cosmosquery.Run(ctx, container(i), qs[i], after(i))
		}()
	}
	close(release)
	wg.Wait()
	return pages, errs
}

// checkQueryPages checks one recorded query against the data: at least two pages joined by
// continuation tokens, no page over the page size, and exactly the items the query selects.
func checkQueryPages(t *testing.T, q cosmosquery.Query, pages []cosmosquery.Page) {
	t.Helper()
	if len(pages) < 2 {
		t.Errorf("%s: %d page(s), want at least 2 (page size %d)", q.Name, len(pages), q.PageSize)
	}
	for n, p := range pages {
		if len(p.IDs) > int(q.PageSize) {
			t.Errorf("%s page %d: %d items, over the page size %d", q.Name, n+1, len(p.IDs), q.PageSize)
		}
		if last := n == len(pages)-1; last != (p.Continuation == "") {
			t.Errorf("%s page %d: continuation %q (last page: %v)", q.Name, n+1, p.Continuation, last)
		}
	}
	if got, want := cosmosquery.IDs(q, pages), q.Expected(); !slices.Equal(got, want) {
		t.Errorf("%s: returned %v\nwant %v", q.Name, got, want)
	}
}

func isQueryInteraction(it *cassette.Interaction) bool {
	return it.Request.Method == "POST" && it.Request.Headers.Get("X-Ms-Documentdb-Query") == "True"
}

func isAccountReadInteraction(it *cassette.Interaction) bool {
	u, err := url.Parse(it.Request.URL)
	return err == nil && it.Request.Method == "GET" && (u.Path == "" || u.Path == "/")
}

// TestConcurrentPagedQueriesReplayDeterministically: sixteen goroutines run sixteen different paged
// queries at once through one recording azvcr, then, with the upstream gone, through one replaying
// azvcr (five times, a fresh server and fresh clients each time, with different timing). Every replay gives
// every goroutine exactly the pages that were recorded for its query, with no misses.
func TestConcurrentPagedQueriesReplayDeterministically(t *testing.T) {
	began := time.Now()
	dir := t.TempDir()
	up, err := upstream.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Stop()
	ca := newCA(t)
	cassettePath := filepath.Join(dir, "queries.yaml")
	qs := cosmosquery.Queries()
	inOrder := make([]int, len(qs))
	for i := range inOrder {
		inOrder[i] = i
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Record: setup one request at a time, then the sixteen queries concurrently on one client (a
	// real application shares one azcosmos client). Each goroutine waits after its first page until
	// all sixteen have their first page, so the recording interleaves the queries by construction;
	// later pages run freely.
	var recLog logBuffer
	rec := startProxy(t, engine.Record, ca, forwardproxy.WithCassette(cassettePath), forwardproxy.WithUpstreamCA(up.CAFile), forwardproxy.WithLogger(warnLogger(&recLog)))
	recClient, err := cosmosflow.NewClient(up.Endpoint, clientVia(rec))
	if err != nil {
		t.Fatal(err)
	}
	container, err := cosmosquery.Setup(ctx, recClient)
	if err != nil {
		t.Fatalf("setup through the recording azvcr: %v", err)
	}
	setupCount := rec.Summary().Recorded
	var firstPages sync.WaitGroup
	firstPages.Add(len(qs))
	arrived := make([]sync.Once, len(qs))
	shared := func(int) *azcosmos.ContainerClient { return container }
	recorded, errs := runQueriesConcurrently(ctx, shared, qs, inOrder, func(i int) func(int) {
		return func(page int) {
			if page == 1 {
				arrived[i].Do(firstPages.Done)
				firstPages.Wait()
			}
		}
	}, func(i int) { arrived[i].Do(firstPages.Done) }) // a query that failed before its first page
	for _, err := range errs {
		if err != nil {
			t.Errorf("record: %v", err)
		}
	}
	if t.Failed() {
		t.Fatalf("recording failed; azvcr log:\n%s", recLog.String())
	}
	totalPages := 0
	for i, q := range qs {
		checkQueryPages(t, q, recorded[i])
		totalPages += len(recorded[i])
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	recSum := rec.Summary()
	recordDone := time.Now()

	// The cassette: the setup, then one interaction per query page, the sixteen first pages before
	// any second page; every query interaction has its own match key, so no replayed answer can
	// depend on which goroutine asks first.
	c, err := cassette.Load(cassettePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != recSum.Recorded || recSum.Recorded != setupCount+totalPages {
		t.Fatalf("cassette holds %d interactions, recorder wrote %d, want %d setup + %d query pages",
			len(c.Interactions), recSum.Recorded, setupCount, totalPages)
	}
	wantSetup := 3 + cosmosquery.Items // account read, database, container, upserts
	if setupCount != wantSetup {
		t.Errorf("setup recorded %d interactions, want %d", setupCount, wantSetup)
	}
	if !isAccountReadInteraction(c.Interactions[0]) {
		t.Errorf("first interaction is %s %s, want the account read GET /", c.Interactions[0].Request.Method, c.Interactions[0].Request.URL)
	}
	keys := map[string]int{}
	for n, it := range c.Interactions {
		if n >= setupCount && !isQueryInteraction(it) {
			t.Errorf("interaction %d (%s %s) after the setup is not a query", it.ID, it.Request.Method, it.Request.URL)
		}
		if n > 0 && isAccountReadInteraction(it) {
			t.Errorf("interaction %d is a second account read", it.ID)
		}
		if !isQueryInteraction(it) {
			continue
		}
		k, err := matcher.Key(&it.Request)
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := keys[k]; dup {
			t.Errorf("query interactions %d and %d have the same match key", prev, it.ID)
		}
		keys[k] = it.ID
	}
	firstBodies := map[string]bool{}
	for _, it := range c.Interactions[setupCount : setupCount+len(qs)] {
		if it.Request.Headers.Get("X-Ms-Continuation") != "" {
			t.Errorf("interaction %d continues a query before every query had its first page: the recording does not interleave", it.ID)
		}
		firstBodies[it.Request.Headers.Get("X-Ms-Max-Item-Count")+" "+it.Request.Body] = true
	}
	if len(firstBodies) != len(qs) {
		t.Errorf("the first %d query interactions are %d distinct first pages, want %d", len(qs), len(firstBodies), len(qs))
	}
	var setupLeft []int // what a query-only replay leaves unused: the setup but its account read
	for _, it := range c.Interactions[:setupCount] {
		if !isAccountReadInteraction(it) {
			setupLeft = append(setupLeft, it.ID)
		}
	}

	// The upstream is gone: replays must not need it.
	up.Stop()
	if conn, err := net.DialTimeout("tcp", mustHost(t, up.Endpoint), time.Second); err == nil {
		conn.Close()
		t.Fatal("upstream still reachable after Stop")
	}

	// Replay: a fresh azvcr each run (recordings are consumed); only the queries run. Even runs share
	// one fresh client, as an application does, so the sixteen goroutines race its first request,
	// the account read, which the client makes once. Odd runs give every goroutine its own client:
	// sixteen account reads against one recording, which azvcr's metadata repeat policy answers.
	// Run 0 releases all at once with no delays; later runs start the goroutines in a shuffled order
	// and sleep a random 0-2 ms after each page.
	for run := range replayRuns {
		perGoroutine := run%2 == 1
		rng := rand.New(rand.NewPCG(uint64(run), 0x5eed))
		order := slices.Clone(inOrder)
		delays := make([][]time.Duration, len(qs))
		if run > 0 {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			for i := range delays {
				for range recorded[i] {
					delays[i] = append(delays[i], time.Duration(rng.IntN(2001))*time.Microsecond)
				}
			}
		}
		var playLog logBuffer
		play := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(cassettePath), forwardproxy.WithLogger(warnLogger(&playLog)))
		clients := 1
		if perGoroutine {
			clients = len(qs)
		}
		containers := make([]*azcosmos.ContainerClient, clients)
		for i := range containers {
			client, err := cosmosflow.NewClient(up.Endpoint, clientVia(play))
			if err != nil {
				t.Fatal(err)
			}
			if containers[i], err = cosmosquery.Open(client); err != nil {
				t.Fatal(err)
			}
		}
		containerFor := func(i int) *azcosmos.ContainerClient { return containers[i%clients] }
		runStart := time.Now()
		replayed, errs := runQueriesConcurrently(ctx, containerFor, qs, order, func(i int) func(int) {
			return func(page int) {
				if page <= len(delays[i]) && delays[i][page-1] > 0 {
					time.Sleep(delays[i][page-1])
				}
			}
		}, nil)
		took := time.Since(runStart)
		play.Close()
		for _, err := range errs {
			if err != nil {
				t.Errorf("replay run %d: %v", run, err)
			}
		}
		for i, q := range qs {
			if !reflect.DeepEqual(replayed[i], recorded[i]) {
				t.Errorf("replay run %d, %s: pages differ from the recording\nrecorded %v\nreplayed %v", run, q.Name, recorded[i], replayed[i])
			}
		}
		s := play.Summary()
		if s.Misses != 0 || s.Replayed != recSum.Recorded-len(setupLeft) || s.Unused != len(setupLeft) || s.Repeated != clients-1 {
			t.Errorf("replay run %d (%d clients) summary %s, %d repeated; want %d replayed (the queries and the account read), %d unused (the rest of the setup), no misses, %d repeated (one account read per client)",
				run, clients, s, s.Repeated, recSum.Recorded-len(setupLeft), len(setupLeft), clients-1)
		}
		var unused []int
		for _, it := range play.Unused() {
			unused = append(unused, it.ID)
		}
		if !slices.Equal(unused, setupLeft) {
			t.Errorf("replay run %d left unused %v, want exactly the setup after the account read %v", run, unused, setupLeft)
		}
		// A miss is logged as "no recording"; other warnings (a client connection still in its TLS
		// handshake when Close drops it) are reported but do not fail the test.
		if log := playLog.String(); strings.Contains(log, "no recording") || t.Failed() {
			t.Errorf("replay run %d: azvcr log:\n%s", run, log)
		} else if log != "" {
			t.Logf("replay run %d: azvcr warned (not a miss):\n%s", run, log)
		}
		t.Logf("replay run %d (%d client(s)): %s in %v", run, clients, s, took.Round(time.Millisecond))
	}
	t.Logf("record: %d setup + %d query pages (%d queries) in %v; %d replays in %v",
		setupCount, totalPages, len(qs), recordDone.Sub(began).Round(time.Millisecond), replayRuns, time.Since(recordDone).Round(time.Millisecond))
	if testing.Verbose() {
		for i, q := range qs {
			t.Logf("%-24s pk=%s size=%d: %s", q.Name, q.PK, q.PageSize, describeQueryPages(recorded[i]))
		}
	}
}

func describeQueryPages(pages []cosmosquery.Page) string {
	var b bytes.Buffer
	for n, p := range pages {
		if n > 0 {
			b.WriteString(" | ")
		}
		fmt.Fprintf(&b, "%d", len(p.IDs))
		if p.Continuation != "" {
			b.WriteString("+")
		}
	}
	return fmt.Sprintf("%d pages [%s]", len(pages), b.String())
}
