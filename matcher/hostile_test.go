package matcher

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// Equal JSON numbers have one canonical spelling however they are written, and the work is the
// literal's: exponents far beyond float64 (or int64) cost what their text does.
func TestCanonicalNumberByValue(t *testing.T) {
	huge := strings.Repeat("9", 40)   // an exponent no int64 holds
	long := strings.Repeat("7", 5000) // a mantissa no float holds
	same := [][]string{
		{"1e21", "1000000000000000000000", "1E+21", "10e20", "0.1e22", "1000000000000000000000.000"},
		{"1", "1.0", "1e0", "10e-1", "0.01e2", "100E-2"},
		{"0", "-0", "0.0", "-0.0e-5", "0e99999999999999999999", "0E" + huge},
		{"1.25", "12.5e-1", "125e-2", "0.125E1"},
		{"-3e-8", "-0.00000003", "-30e-9"},
		{"1e6666666", "10e6666665", "0.001e6666669"},
		{"1e20000000", "100e19999998"},
		{"1e" + huge, "10e" + huge[:39] + "8", "0.1e1" + strings.Repeat("0", 40)},
		{"-5e-" + huge, "-50e-1" + strings.Repeat("0", 40)},
		{long, long + ".000", "0." + long + "e5000"},
	}
	for _, group := range same {
		want := canonicalNumber(group[0])
		for _, lit := range group[1:] {
			if got := canonicalNumber(lit); got != want {
				t.Errorf("%s canonicalises to %q, %s to %q", group[0], want, lit, got)
			}
		}
	}
	different := [][2]string{
		{"1e21", "1e22"}, {"1", "-1"}, {"0.1", "0.2"}, {"1e" + huge, "1e-" + huge},
		{"1e" + huge, "2e" + huge}, {"12345678901234567890", "12345678901234567891"},
		{"1e6666666", "1e6666667"}, {long, long + "1"},
	}
	for _, d := range different {
		if a, b := canonicalNumber(d[0]), canonicalNumber(d[1]); a == b {
			t.Errorf("%.40s and %.40s both canonicalise to %.60q", d[0], d[1], a)
		}
	}
	// The canonical text stays JSON and no longer than the literal plus a few characters, so
	// 1e20000000 never turns into twenty million zeros.
	for _, lit := range []string{"1e20000000", "1e-20000000", "1e" + huge, "123.456e-" + huge, long + "e-9999", "1e21", "1e-7"} {
		got := canonicalNumber(lit)
		if len(got) > len(lit)+25 {
			t.Errorf("%.30s canonicalises to %d bytes, more than its literal's %d", lit, len(got), len(lit))
		}
		if v, ok := parseJSON(got); !ok || v.kind != jNumber || v.text != got {
			t.Errorf("canonical %.60q of %.30s is not a canonical JSON number", got, lit)
		}
	}
}

// Bodies compare by value: two spellings of one document get one key, at any nesting depth,
// and documents too deep for a recursive decoder are still JSON.
func TestKeyJSONBodiesByValue(t *testing.T) {
	deep := func(n int, inner, sep string) string {
		return strings.Repeat("["+sep, n) + inner + strings.Repeat(sep+"]", n)
	}
	const depth = 200_000
	cases := []struct {
		name string
		a, b string
		same bool
	}{
		{"1e21 spelled out", `{"n":1e21}`, `{"n":1000000000000000000000}`, true},
		{"huge exponent respelled", `{"n":1e6666666}`, `{"n":10e6666665}`, true},
		{"huge exponents differ", `{"n":1e6666666}`, `{"n":1e6666667}`, false},
		{"minus zero", `{"n":-0}`, `{"n":0.0}`, true},
		{"deep arrays, spacing ignored", deep(depth, "1", ""), deep(depth, "1.0", " "), true},
		{"deep arrays differ at the bottom", deep(depth, "1", ""), deep(depth, "2", ""), false},
		{"deep objects, key order ignored", strings.Repeat(`{"b":0,"a":`, depth) + "1" + strings.Repeat("}", depth),
			strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat(`,"b":0}`, depth), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ka := mustKey(t, req("POST", acct+"/docs", tc.a, "Content-Type", "application/json"))
			kb := mustKey(t, req("POST", acct+"/docs", tc.b, "Content-Type", "application/json"))
			if (ka == kb) != tc.same {
				t.Errorf("same key = %v, want %v", ka == kb, tc.same)
			}
		})
	}
	// A miss deep in such a document names the path, shortened.
	x := mustIndex(t, interaction(0, req("POST", acct+"/docs", deep(depth, "1", "")), ""))
	m := mustMiss(t, x, req("POST", acct+"/docs", deep(depth, "2", "")))
	if len(m.Differences) != 1 || !strings.HasPrefix(m.Differences[0], "body $[0][0]") || !strings.HasSuffix(m.Differences[0], "[0]: request 2, recorded 1") ||
		len(m.Differences[0]) > maxPathText+60 {
		t.Errorf("differences %.300q", m.Differences)
	}
}

// A request body is read once into its digest; only a miss parses bodies into trees, and then
// two: the live one and the closest recording's, however many recordings have bodies.
func TestMissReadsBodiesOnce(t *testing.T) {
	for _, n := range []int{10, 1000} {
		var its []*cassette.Interaction
		for i := range n {
			its = append(its, interaction(i, req("PUT", fmt.Sprintf("%s/dbs/d/colls/c/docs/doc%d", acct, i), fmt.Sprintf(`{"id":"doc%d","n":%d}`, i, i)), ""))
		}
		x := mustIndex(t, its...)
		liveBodies.forget() // the live bodies below were read before, for n = 10
		trees, digests := jsonParses.Load(), jsonDigests.Load()
		m := mustMiss(t, x, req("PUT", acct+"/dbs/d/colls/c/docs/doc7", `{"id":"doc7","n":8}`))
		if got := jsonParses.Load() - trees; got != 2 {
			t.Errorf("%d recordings: a miss parsed %d JSON bodies, want 2 (the live one, the closest one)", n, got)
		}
		if got := jsonDigests.Load() - digests; got != 1 {
			t.Errorf("%d recordings: a miss digested %d bodies, want 1", n, got)
		}
		if m.Closest == nil || m.Closest.ID != 7 || len(m.Differences) != 1 || m.Differences[0] != "body $.n: request 8, recorded 7" {
			t.Errorf("%d recordings: miss %+v", n, m)
		}
		trees, digests = jsonParses.Load(), jsonDigests.Load()
		liveBodies.forget()
		if it, miss := x.Next(req("PUT", acct+"/dbs/d/colls/c/docs/doc3", `{"n":3,"id":"doc3"}`)); it == nil {
			t.Fatalf("no hit: %v", miss)
		}
		if got, dg := jsonParses.Load()-trees, jsonDigests.Load()-digests; got != 0 || dg != 1 {
			t.Errorf("%d recordings: a hit parsed %d JSON bodies into trees and digested %d, want 0 and 1", n, got, dg)
		}
	}
}

// Reading a JSON body keeps only the content of its open containers: a 16 MiB array of numbers,
// an object of a million members or a million levels of nesting hold a few times their size at
// the most, where a tree of values took seventy times the array's size (and 30 s).
func TestJSONDigestMemory(t *testing.T) {
	for _, body := range []string{
		"[" + strings.Repeat("0,", 8<<20) + "0]",
		"{" + strings.Repeat(`"k":1e21,`, 1<<20) + `"last":-0}`,
		strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20),
		strings.Repeat(`{"a":`, 1<<20) + "1" + strings.Repeat("}", 1<<20),
	} {
		d := newDigester(body)
		if !scanJSON(body, d) {
			t.Fatal("not read as JSON")
		}
		if held := d.held(); held > 8*len(body) {
			t.Errorf("%.20s... (%d bytes): %d bytes held", body, len(body), held)
		}
	}
}

// A miss is explained with the index unlocked: while one is held mid-explanation, other
// requests are answered. (With the explanation under the lock, the hits below would wait for
// it forever.)
func TestMissExplainedOffTheLock(t *testing.T) {
	hit := req("GET", acct+"/dbs/d", "")
	x, err := New([]*cassette.Interaction{interaction(0, hit, "db"), interaction(1, req("POST", acct+"/dbs/d/colls/c/docs", `{"id":"a"}`), "")},
		WithRepeat(RepeatAll))
	if err != nil {
		t.Fatal(err)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	explaining = func() { close(inside); <-release }
	defer func() { explaining = func() {} }()
	var wg sync.WaitGroup
	wg.Add(1)
	var miss *Miss
	go func() {
		defer wg.Done()
		_, miss = x.Next(req("POST", acct+"/dbs/d/colls/c/docs", `{"id":"b"}`))
	}()
	<-inside
	hits := make(chan int)
	go func() {
		n := 0
		for range 100 {
			if it, _ := x.Next(hit); it != nil {
				n++
			}
		}
		x.Stats()
		hits <- n
	}()
	n := <-hits // never arrives while a miss holds the lock
	close(release)
	wg.Wait()
	if n != 100 {
		t.Errorf("%d of 100 hits answered while a miss was explained", n)
	}
	if miss == nil || miss.Closest == nil || miss.Closest.ID != 1 {
		t.Errorf("miss %+v", miss)
	}
	if s := x.Stats(); s.Misses != 1 || s.Repeated != 99 {
		t.Errorf("stats %+v", s)
	}
}

// However large the cassette, a miss compares the request with a bounded set of recordings:
// those of the same route first.
func TestMissComparesBoundedCandidates(t *testing.T) {
	var its []*cassette.Interaction
	for i := range 3 * maxCandidates {
		its = append(its, interaction(i, req("GET", fmt.Sprintf("%s/dbs/d/colls/c%d/docs/x", acct, i), ""), ""))
	}
	target := req("GET", acct+"/dbs/d/colls/c/docs/y", "")
	its = append(its, interaction(len(its), target, ""))
	x := mustIndex(t, its...)
	x.mu.Lock()
	p := mustParts(t, req("GET", acct+"/dbs/d/colls/c/docs/z", ""))
	c := x.missCase(p, x.hash(p.key()))
	x.mu.Unlock()
	if len(c.candidates) != maxCandidates {
		t.Errorf("%d candidates, want %d", len(c.candidates), maxCandidates)
	}
	m := mustMiss(t, x, req("GET", acct+"/dbs/d/colls/c/docs/z", ""))
	if m.Closest == nil || m.Closest.ID != len(its)-1 {
		t.Errorf("closest %+v, want #%d (same container)", m.Closest, len(its)-1)
	}
}

func mustParts(t *testing.T, r *cassette.Request) parts {
	t.Helper()
	p, err := split(r)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The first miss builds the tables that find its nearest recordings with the index unlocked:
// while it is held there, other requests are answered, and a recording added meanwhile is
// still among the candidates of that miss.
func TestFirstMissBuildsTablesOffTheLock(t *testing.T) {
	hit := req("GET", acct+"/dbs/d", "")
	x, err := New([]*cassette.Interaction{interaction(0, hit, "db")}, WithRepeat(RepeatAll))
	if err != nil {
		t.Fatal(err)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	buildingNear = func() { close(inside); <-release }
	defer func() { buildingNear = func() {} }()
	var wg sync.WaitGroup
	wg.Add(1)
	var miss *Miss
	go func() {
		defer wg.Done()
		_, miss = x.Next(req("POST", acct+"/dbs/d/colls/c/docs", `{"id":"b"}`))
	}()
	<-inside
	done := make(chan int)
	go func() {
		n := 0
		for range 100 {
			if it, _ := x.Next(hit); it != nil {
				n++
			}
		}
		if err := x.AddUsed(interaction(1, req("POST", acct+"/dbs/d/colls/c/docs", `{"id":"a"}`), "")); err != nil {
			t.Error(err)
		}
		done <- n
	}()
	n := <-done // never arrives while the first miss holds the lock
	close(release)
	wg.Wait()
	if n != 100 {
		t.Errorf("%d of 100 hits answered while the first miss built its tables", n)
	}
	if miss == nil || miss.Closest == nil || miss.Closest.ID != 1 {
		t.Errorf("miss %+v, want the recording added while the tables were built as the closest", miss)
	}
}
