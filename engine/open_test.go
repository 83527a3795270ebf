package engine

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/matcher"
)

// openTestCassette writes a cassette of Cosmos-like interactions: documents read and written,
// a query paged by continuation tokens, headers matching reads and others, and returns its path
// and interactions.
func openTestCassette(t *testing.T) (string, []*cassette.Interaction) {
	t.Helper()
	base := "https://acct.documents.azure.com/dbs/db1/colls/c1/docs"
	var its []*cassette.Interaction
	add := func(method, u, body string, h http.Header, code int, rh http.Header, rbody string) {
		h = h.Clone()
		if h == nil {
			h = http.Header{}
		}
		h.Set("Authorization", "type%3Dmaster%26sig%3DREDACTED")
		h.Set("X-Ms-Date", fmt.Sprintf("Thu, 13 Nov 2025 10:00:%02d GMT", len(its)))
		rh = rh.Clone()
		if rh == nil {
			rh = http.Header{}
		}
		rh.Set("Content-Type", "application/json")
		rh.Set("X-Ms-Activity-Id", fmt.Sprintf("activity-%d", len(its)))
		its = append(its, &cassette.Interaction{ID: len(its),
			Request:  cassette.Request{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Method: method, URL: u, Host: "acct.documents.azure.com", Body: body, Headers: h},
			Response: cassette.Response{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Code: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)), Headers: rh, Body: rbody, Duration: "1ms"}})
	}
	query := `{"query":"SELECT * FROM c"}`
	qh := http.Header{"Content-Type": {"application/query+json"}, "X-Ms-Documentdb-Isquery": {"True"}}
	add("GET", "https://acct.documents.azure.com/", "", nil, 200, nil, `{"id":"acct"}`)
	for i := range 4 {
		add("PUT", fmt.Sprintf("%s/item-%d", base, i), fmt.Sprintf(`{"id":"item-%d","n":%d}`, i, i), http.Header{"X-Ms-Documentdb-Partitionkey": {fmt.Sprintf(`["p%d"]`, i)}}, 201, nil, fmt.Sprintf(`{"id":"item-%d"}`, i))
	}
	add("GET", base+"/item-1", "", http.Header{"X-Ms-Documentdb-Partitionkey": {`["p1"]`}}, 200, http.Header{"Etag": {`"e1"`}}, `{"id":"item-1","n":1}`)
	add("POST", base, query, qh, 200, http.Header{"X-Ms-Continuation": {"tok-1"}}, `{"Documents":[1]}`)
	qh2 := qh.Clone()
	qh2["x-ms-continuation"] = []string{"tok-1"}
	add("POST", base, query, qh2, 200, nil, `{"Documents":[2]}`)
	add("DELETE", base+"/item-3", "", http.Header{"X-Ms-Documentdb-Partitionkey": {`["p3"]`}}, 204, nil, "")
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := cassette.Save(path, &cassette.Cassette{Version: cassette.Version, Interactions: its}); err != nil {
		t.Fatal(err)
	}
	return path, its
}

// seen is what a client sees of a response.
func seen(t *testing.T, r *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(r.Body)
	h := r.Header.Clone()
	return fmt.Sprintf("%d %v %s", r.StatusCode, h, b)
}

// Open reads a YAML cassette light for replay: every answer, miss message and count is what an
// engine over the fully loaded cassette gives.
func TestOpenReplaysAsTheFullCassette(t *testing.T) {
	path, its := openTestCassette(t)
	base := "https://acct.documents.azure.com/dbs/db1/colls/c1/docs"
	var live []cassette.Request
	for _, it := range its {
		live = append(live, it.Request)
	}
	q := its[6].Request
	q.Headers = q.Headers.Clone()
	q.Headers["X-Ms-Continuation"] = []string{"tok-unknown"}
	live = append(live,
		cassette.Request{Method: "GET", URL: base + "/item-1", Headers: http.Header{"X-Ms-Documentdb-Partitionkey": {`["p2"]`}}}, // a miss
		its[5].Request, // used up
		its[0].Request, // a metadata read, repeated
		q,              // a continuation token no response issued
	)

	light, err := Open(Replay, path, matcher.RepeatMetadata)
	if err != nil {
		t.Fatal(err)
	}
	defer light.Close()
	loaded, err := cassette.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	x, err := matcher.New(loaded.Interactions, matcher.WithRepeat(matcher.RepeatMetadata))
	if err != nil {
		t.Fatal(err)
	}
	full, err := New(Replay, WithIndex(x))
	if err != nil {
		t.Fatal(err)
	}
	misses := 0
	for i, r := range live[:len(live)-1] {
		if i == 2 {
			if a, b := light.Unused(), full.Unused(); !reflect.DeepEqual(a, b) || len(a) != len(its)-2 {
				t.Errorf("unused: light %v, full %v", a, b)
			}
		}
		a, b := light.Handle(liveRequest(t, r)), full.Handle(liveRequest(t, r))
		if a.StatusCode == MissStatus {
			misses++
		}
		if sa, sb := seen(t, a), seen(t, b); sa != sb {
			t.Errorf("request %d (%s %s): light %s\nfull %s", i, r.Method, r.URL, sa, sb)
		}
	}
	// The continuation token no response issued, after the chain was used.
	r := live[len(live)-1]
	a, b := light.Handle(liveRequest(t, r)), full.Handle(liveRequest(t, r))
	if sa, sb := seen(t, a), seen(t, b); sa != sb || !strings.Contains(a.Header.Get(MissHeader), "continuation token") {
		t.Errorf("continuation miss: light %s\nfull %s", sa, sb)
	}
	if misses != 2 {
		t.Errorf("%d misses, want 2 (the test compares too little)", misses)
	}
	if a, b := light.Summary(), full.Summary(); a != b {
		t.Errorf("summary: light %v, full %v", a, b)
	}
	if a, b := light.Unused(), full.Unused(); !reflect.DeepEqual(a, b) {
		t.Errorf("unused: light %v, full %v", a, b)
	}
	if err := light.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := light.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
}

// A recording changed in the file after Open is a miss saying so, at its file and line; the
// others are answered.
func TestOpenFileChangedUnderReplay(t *testing.T) {
	path, its := openTestCassette(t)
	e, err := Open(Replay, path, matcher.RepeatNone)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, []byte("item-2\"}"))
	line := 1 + bytes.Count(data[:bytes.LastIndex(data[:at], []byte("\n- id: 3\n"))+1], []byte("\n"))
	if err := os.WriteFile(path, bytes.Replace(data, []byte("item-2\"}"), []byte("item-X\"}"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		it   int
		want string
	}{
		{3, fmt.Sprintf("%s:%d: the interaction changed in the file", path, line)},
		{4, ""},
	} {
		resp := e.Handle(liveRequest(t, its[tc.it].Request))
		miss := resp.Header.Get(MissHeader)
		if tc.want == "" {
			if resp.StatusCode != 201 || miss != "" {
				t.Errorf("interaction %d: %d %q, want it answered", tc.it, resp.StatusCode, miss)
			}
			continue
		}
		if resp.StatusCode != MissStatus || !strings.Contains(miss, tc.want) {
			t.Errorf("interaction %d: %d %q, want a miss saying %q", tc.it, resp.StatusCode, miss, tc.want)
		}
	}
}

// A cassette whose last interaction a killed recording left half written opens for replay and
// for auto with that interaction left out, and says so in the log; auto rewrites the file
// without it before appending.
func TestOpenTornCassette(t *testing.T) {
	for name, mode := range map[string]Mode{"replay": Replay, "auto": Auto} {
		t.Run(name, func(t *testing.T) {
			path, its := openTestCassette(t)
			j, _, err := cassette.OpenAppend(path)
			if err != nil {
				t.Fatal(err)
			}
			big := *its[1]
			big.Response.Body = strings.Repeat(`{"id":"item","n":1}`+"\n", 1000)
			if err := j.Add(&big); err != nil {
				t.Fatal(err)
			}
			j.Close()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			start := bytes.LastIndex(data, []byte("\n- id: ")) + 1
			cut := (start/4096 + 1) * 4096 // where a kill stops a write: between pages
			if cut >= len(data) {
				t.Fatalf("the last item (%d to %d) spans no page boundary", start, len(data))
			}
			if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			opts := []Option{WithLogger(slog.New(slog.NewTextHandler(&log, nil)))}
			if mode == Auto {
				opts = append(opts, WithUpstream(http.DefaultTransport)) // never called: nothing misses
			}
			e, err := Open(mode, path, matcher.RepeatNone, opts...)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer e.Close()
			line := 1 + bytes.Count(data[:start], []byte("\n"))
			if want := fmt.Sprintf("%s:%d: the last interaction is cut short", path, line); !strings.Contains(log.String(), want) {
				t.Errorf("log %q does not say %q", log.String(), want)
			}
			if rewritten := strings.Contains(log.String(), "rewritten without it"); rewritten != (mode == Auto) {
				t.Errorf("log %q: says the file was rewritten: %v", log.String(), rewritten)
			}
			if mode == Auto {
				c, err := cassette.Load(path)
				if err != nil || len(c.Interactions) != len(its) || c.Torn != nil {
					t.Fatalf("after Open in auto: %v, %d interactions (want %d), torn %v", err, len(c.Interactions), len(its), c.Torn)
				}
			}
		})
	}
}
