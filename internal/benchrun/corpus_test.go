package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/redact"
)

const testInteractions = chunk + 7 // a whole chunk and a partial one

func readWire(t *testing.T, i int) (*http.Request, []byte) {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(wire(i))))
	if err != nil {
		t.Fatalf("interaction %d: the wire request does not parse: %v", i, err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.URL.Scheme, r.URL.Host = "https", r.Host
	return r, body
}

// The generated cassette is byte for byte what cassette.Save writes for the same interactions.
func TestWriteCassetteIsWhatSaveWrites(t *testing.T) {
	dir := t.TempDir()
	fast := filepath.Join(dir, "fast.yaml")
	if _, err := writeCassette(fast, testInteractions); err != nil {
		t.Fatal(err)
	}
	rules := redact.DefaultRules()
	c := &cassette.Cassette{Version: cassette.Version}
	for i := range testInteractions {
		c.Interactions = append(c.Interactions, recorded(i, rules))
	}
	saved := filepath.Join(dir, "saved.yaml")
	if err := cassette.Save(saved, c); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(fast)
	b, _ := os.ReadFile(saved)
	if !bytes.Equal(a, b) {
		t.Fatalf("writeCassette wrote %d bytes, cassette.Save %d: they differ", len(a), len(b))
	}
	perInteraction := len(a) / testInteractions
	if perInteraction < 1500 || perInteraction > 2300 { // the cassettes: 176 MB per 100,000
		t.Errorf("%d bytes of YAML per interaction, want about 1,760 to 2,100", perInteraction)
	}
}

// The floor answers with the recorded bytes: redaction leaves the corpus's answers as they are.
func TestRecordedAnswerIsTheLiveAnswer(t *testing.T) {
	rules := redact.DefaultRules()
	for i := range 20 {
		if got, want := recorded(i, rules).Response, live(i).Response; !reflect.DeepEqual(got, want) {
			t.Errorf("interaction %d (kind %d): redaction changed the answer:\n got %#v\nwant %#v", i, kindOf(i), got, want)
		}
	}
}

// Every live request, as the load generator sends it, is answered from the cassette with its
// recorded answer; and the floor can tell which interaction a request is.
func TestLiveRequestsReplayAndAreKnown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if _, err := writeCassette(path, testInteractions); err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(engine.Replay, path, matcher.RepeatNone)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[kind]int{}
	for i := range testInteractions {
		r, body := readWire(t, i)
		if n, ok := indexOf(r.Method, r.URL.Path, body); !ok || n != i {
			t.Errorf("interaction %d: indexOf says %d, %v", i, n, ok)
		}
		resp := e.Handle(r)
		got, _ := io.ReadAll(resp.Body)
		want := live(i).Response
		if resp.StatusCode != want.Code || string(got) != want.Body {
			t.Fatalf("interaction %d (kind %d): replay answered %d %q", i, kindOf(i), resp.StatusCode, got)
		}
		kinds[kindOf(i)]++
	}
	if len(kinds) != 4 {
		t.Errorf("kinds replayed: %v, want all four", kinds)
	}
	if s := e.Summary(); s.Misses != 0 || s.Replayed != testInteractions {
		t.Errorf("summary %+v", s)
	}
}

// A cached cassette is written once and found again; its bytes are writeCassette's.
func TestCachedCassette(t *testing.T) {
	dir := t.TempDir()
	path, size, err := cachedCassette(dir, 30)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	again, size2, err := cachedCassette(dir, 30)
	if err != nil || again != path || size2 != size || size != st.Size() {
		t.Fatalf("second call: %s %d %v, first %s %d", again, size2, err, path, size)
	}
	if st2, _ := os.Stat(path); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("the cached cassette was written again")
	}
	fresh := filepath.Join(dir, "fresh.yaml")
	writeCassette(fresh, 30)
	a, _ := os.ReadFile(path)
	b, _ := os.ReadFile(fresh)
	if !bytes.Equal(a, b) {
		t.Error("the cached cassette differs from a fresh one")
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "c30-*.yaml")); len(files) != 1 {
		t.Errorf("cache holds %v, want one file", files)
	}
}

// TestCosmosRequestsKeepTheMix: the requests cycled against 100 and 100,000 interactions have
// the same mix of kinds, so the two rates compare like with like.
func TestCosmosRequestsKeepTheMix(t *testing.T) {
	mix := func(size, n int) map[string]int {
		counts := map[string]int{}
		for _, r := range cosmosRequests(size, n) {
			method, _, _ := strings.Cut(string(r.wire), " ")
			kind := method
			if method == "POST" && strings.Contains(string(r.wire), "application/query+json") {
				kind = "query"
			}
			counts[kind]++
		}
		return counts
	}
	few := len(cosmosRequests(100, 100))
	small, big, bigFew := mix(100, 100), mix(100_000, 4096), mix(100_000, few)
	if len(big) != 3 || len(small) != 3 || len(bigFew) != 3 {
		t.Fatalf("kinds: %v at 100, %v and %v at 100,000; want reads, queries and creates in each", small, big, bigFew)
	}
	if n := len(cosmosRequests(100_000, few)); n != few {
		t.Errorf("%d requests from 100,000 interactions, %d from 100", n, few)
	}
	if n := len(cosmosRequests(100_000, 4096)); n != 4096 {
		t.Errorf("%d requests from 100,000 interactions, want 4,096", n)
	}
	total := func(m map[string]int) (n int) {
		for _, c := range m {
			n += c
		}
		return n
	}
	for k := range small {
		for _, other := range []map[string]int{big, bigFew} {
			a, b := float64(small[k])/float64(total(small)), float64(other[k])/float64(total(other))
			if a-b > 0.05 || b-a > 0.05 {
				t.Errorf("%s: %.2f of the requests at 100, %.2f at 100,000", k, a, b)
			}
		}
	}
}
