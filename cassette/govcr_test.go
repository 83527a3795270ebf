package cassette_test

// go-vcr is the oracle for the file format: what azvcr writes must load and replay in go-vcr v2 and
// v4, and what they record must load in azvcr.

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	vcr2 "gopkg.in/dnaeon/go-vcr.v2/cassette"
	rec2 "gopkg.in/dnaeon/go-vcr.v2/recorder"
	vcr4 "gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	rec4 "gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
)

// writeAzvcr writes the sample with the named writer; it returns the go-vcr cassette name (the
// path without .yaml) and the interactions as written.
func writeAzvcr(t *testing.T, writer string) (string, []*cassette.Interaction) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "azvcr")
	items := cassettetest.WithIDs(cassettetest.SampleInteractions(t))
	for _, w := range writers {
		if w.name == writer {
			w.write(t, name+".yaml", items)
			return name, cassettetest.WithIDs(cassettetest.SampleInteractions(t))
		}
	}
	t.Fatalf("no writer %q", writer)
	return "", nil
}

func sameHeader(a, b http.Header) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestGoVCRLoadsAzvcrFiles(t *testing.T) {
	for _, w := range writers {
		t.Run(w.name+"/v2", func(t *testing.T) {
			name, want := writeAzvcr(t, w.name)
			c, err := vcr2.Load(name)
			if err != nil {
				t.Fatalf("go-vcr v2 Load: %v", err)
			}
			if len(c.Interactions) != len(want) {
				t.Fatalf("go-vcr v2 sees %d interactions, want %d", len(c.Interactions), len(want))
			}
			for i, w := range want {
				g := c.Interactions[i]
				if g.Request.Method != w.Request.Method || g.Request.URL != w.Request.URL || g.Request.Body != w.Request.Body {
					t.Errorf("v2 interaction %d request: %s %s %q", i, g.Request.Method, g.Request.URL, g.Request.Body)
				}
				if !sameHeader(g.Request.Headers, w.Request.Headers) {
					t.Errorf("v2 interaction %d request headers %v, want %v", i, g.Request.Headers, w.Request.Headers)
				}
				if g.Response.Code != w.Response.Code || g.Response.Status != w.Response.Status || g.Response.Body != w.Response.Body {
					t.Errorf("v2 interaction %d response: %d %q body %q", i, g.Response.Code, g.Response.Status, g.Response.Body)
				}
				if !sameHeader(g.Response.Headers, w.Response.Headers) {
					t.Errorf("v2 interaction %d response headers %v, want %v", i, g.Response.Headers, w.Response.Headers)
				}
				if g.Response.Duration != 1500*time.Microsecond {
					t.Errorf("v2 interaction %d duration %v", i, g.Response.Duration)
				}
			}
		})
		t.Run(w.name+"/v4", func(t *testing.T) {
			name, want := writeAzvcr(t, w.name)
			c, err := vcr4.Load(name)
			if err != nil {
				t.Fatalf("go-vcr v4 Load: %v", err)
			}
			if c.Version != 2 || len(c.Interactions) != len(want) {
				t.Fatalf("go-vcr v4 sees version %d, %d interactions; want 2, %d", c.Version, len(c.Interactions), len(want))
			}
			for i, w := range want {
				g := c.Interactions[i]
				if g.ID != w.ID {
					t.Errorf("v4 interaction %d id %d", i, g.ID)
				}
				gr, wr := g.Request, w.Request
				if gr.Method != wr.Method || gr.URL != wr.URL || gr.Body != wr.Body || gr.Proto != wr.Proto ||
					gr.ProtoMajor != wr.ProtoMajor || gr.ProtoMinor != wr.ProtoMinor || gr.ContentLength != wr.ContentLength || gr.Host != wr.Host {
					t.Errorf("v4 interaction %d request %+v\nwant %+v", i, gr, wr)
				}
				if !sameHeader(gr.Headers, wr.Headers) {
					t.Errorf("v4 interaction %d request headers %v, want %v", i, gr.Headers, wr.Headers)
				}
				gp, wp := g.Response, w.Response
				if gp.Code != wp.Code || gp.Status != wp.Status || gp.Body != wp.Body || gp.Proto != wp.Proto || gp.ContentLength != wp.ContentLength {
					t.Errorf("v4 interaction %d response %+v\nwant %+v", i, gp, wp)
				}
				if !sameHeader(gp.Headers, wp.Headers) {
					t.Errorf("v4 interaction %d response headers %v, want %v", i, gp.Headers, wp.Headers)
				}
				if gp.Duration != 1500*time.Microsecond {
					t.Errorf("v4 interaction %d duration %v", i, gp.Duration)
				}
			}
		})
	}
}

// bodyMatcher matches method, URL and body, restoring the body for the next candidate.
func bodyMatches(r *http.Request, method, rawURL, body string) bool {
	if r.Method != method || r.URL.String() != rawURL {
		return false
	}
	var got []byte
	if r.Body != nil {
		var err error
		got, err = io.ReadAll(r.Body)
		if err != nil {
			return false
		}
		r.Body = io.NopCloser(bytes.NewReader(got))
	}
	return string(got) == body
}

// replayAll issues every recorded request through client and checks the replayed responses.
func replayAll(t *testing.T, client *http.Client, want []*cassette.Interaction) {
	t.Helper()
	// Replay in reverse so matching cannot rely on file order.
	for i := len(want) - 1; i >= 0; i-- {
		w := want[i]
		var body io.Reader
		if w.Request.Body != "" {
			body = strings.NewReader(w.Request.Body)
		}
		req, err := http.NewRequest(w.Request.Method, w.Request.URL, body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("replay %d (%s %s): %v", i, w.Request.Method, w.Request.URL, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != w.Response.Code {
			t.Errorf("replay %d: status %d, want %d", i, resp.StatusCode, w.Response.Code)
		}
		if !bytes.Equal(got, []byte(w.Response.Body)) {
			t.Errorf("replay %d: body %q, want %q", i, got, w.Response.Body)
		}
		if !sameHeader(resp.Header, w.Response.Headers) {
			t.Errorf("replay %d: header %v, want %v", i, resp.Header, w.Response.Headers)
		}
		// Names recorded in lower case (header_names) are found by Go's lookups all the same.
		for _, n := range w.Response.HeaderNames {
			if resp.Header.Get(n) == "" {
				t.Errorf("replay %d: Header.Get(%q) is empty", i, n)
			}
		}
	}
	// Every interaction has been used once; one more request must not be answered.
	req, _ := http.NewRequest(want[0].Request.Method, want[0].Request.URL, strings.NewReader(want[0].Request.Body))
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("a request beyond the cassette was answered with %d", resp.StatusCode)
	}
}

func TestGoVCRReplaysAzvcrFiles(t *testing.T) {
	for _, w := range writers {
		t.Run(w.name+"/v2", func(t *testing.T) {
			name, want := writeAzvcr(t, w.name)
			rec, err := rec2.NewAsMode(name, rec2.ModeReplaying, nil)
			if err != nil {
				t.Fatal(err)
			}
			rec.SkipRequestLatency = true
			rec.SetMatcher(func(r *http.Request, i vcr2.Request) bool {
				return bodyMatches(r, i.Method, i.URL, i.Body)
			})
			defer rec.Stop()
			replayAll(t, &http.Client{Transport: rec}, want)
		})
		t.Run(w.name+"/v4", func(t *testing.T) {
			name, want := writeAzvcr(t, w.name)
			rec, err := rec4.New(name,
				rec4.WithMode(rec4.ModeReplayOnly),
				rec4.WithSkipRequestLatency(true),
				rec4.WithMatcher(func(r *http.Request, i vcr4.Request) bool {
					return bodyMatches(r, i.Method, i.URL, i.Body)
				}))
			if err != nil {
				t.Fatal(err)
			}
			defer rec.Stop()
			replayAll(t, &http.Client{Transport: rec}, want)
		})
	}
}

// origin is a real HTTP server for go-vcr to record.
func origin(t *testing.T, binary string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dbs/db1/docs/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Ms-Request-Charge", "1.5")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		io.WriteString(w, cassettetest.JSONBody)
	})
	mux.HandleFunc("GET /dbs/db1/docs/bin", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		io.WriteString(w, binary)
	})
	mux.HandleFunc("POST /dbs/db1/docs", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "got:\n"+string(b)+"\n")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type recorded struct {
	method, path, reqBody string
	code                  int
	respBody, ctype       string
}

func exercise(t *testing.T, client *http.Client, base string, binary string) []recorded {
	t.Helper()
	postBody := "{\"id\":\"n1\",\n\"bytes\":\"\xff\xfe\"}"
	calls := []recorded{
		{"GET", "/dbs/db1/docs/json", "", 200, cassettetest.JSONBody, "application/json"},
		{"GET", "/dbs/db1/docs/bin", "", 200, binary, "application/octet-stream"},
		{"POST", "/dbs/db1/docs", postBody, 201, "got:\n" + postBody + "\n", "text/plain; charset=utf-8"},
	}
	for _, c := range calls {
		var body io.Reader
		if c.reqBody != "" {
			body = strings.NewReader(c.reqBody)
		}
		req, err := http.NewRequest(c.method, base+c.path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Ms-Version", "2020-07-15")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || string(got) != c.respBody {
			t.Fatalf("origin precondition: %s %s -> %d %q", c.method, c.path, resp.StatusCode, got)
		}
	}
	return calls
}

func checkRecorded(t *testing.T, c *cassette.Cassette, base string, calls []recorded) {
	t.Helper()
	if c.Version != cassette.Version {
		t.Errorf("Version = %d", c.Version)
	}
	if len(c.Interactions) != len(calls) {
		t.Fatalf("%d interactions, want %d", len(c.Interactions), len(calls))
	}
	for i, w := range calls {
		it := c.Interactions[i]
		if it.ID != i {
			t.Errorf("interaction %d id %d", i, it.ID)
		}
		if it.Request.Method != w.method || it.Request.URL != base+w.path || it.Request.Body != w.reqBody {
			t.Errorf("interaction %d request %s %s %q", i, it.Request.Method, it.Request.URL, it.Request.Body)
		}
		if it.Request.Headers.Get("X-Ms-Version") != "2020-07-15" {
			t.Errorf("interaction %d request headers %v", i, it.Request.Headers)
		}
		if it.Response.Code != w.code || it.Response.Body != w.respBody {
			t.Errorf("interaction %d response %d %q, want %d %q", i, it.Response.Code, it.Response.Body, w.code, w.respBody)
		}
		if got := it.Response.Headers.Get("Content-Type"); got != w.ctype {
			t.Errorf("interaction %d Content-Type %q, want %q", i, got, w.ctype)
		}
		if !strings.HasPrefix(it.Response.Status, http.StatusText(w.code)) && !strings.Contains(it.Response.Status, http.StatusText(w.code)) {
			t.Errorf("interaction %d status %q", i, it.Response.Status)
		}
		if _, err := time.ParseDuration(it.Response.Duration); err != nil {
			t.Errorf("interaction %d duration %q: %v", i, it.Response.Duration, err)
		}
	}
	if got := c.Interactions[0].Response.Headers["X-Multi"]; !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("X-Multi = %q", got)
	}
	if got := c.Interactions[0].Response.Headers.Get("X-Ms-Request-Charge"); got != "1.5" {
		t.Errorf("X-Ms-Request-Charge = %q", got)
	}
	if u, _ := url.Parse(c.Interactions[2].Request.URL); u == nil || u.Path != "/dbs/db1/docs" {
		t.Errorf("POST url %q", c.Interactions[2].Request.URL)
	}
}

func TestAzvcrLoadsGoVCRRecordings(t *testing.T) {
	binary := cassettetest.RandomBinary(t, 300, 99)

	t.Run("v4", func(t *testing.T) {
		srv := origin(t, binary)
		name := filepath.Join(t.TempDir(), "v4rec")
		rec, err := rec4.New(name, rec4.WithMode(rec4.ModeRecordOnly), rec4.WithRealTransport(srv.Client().Transport))
		if err != nil {
			t.Fatal(err)
		}
		calls := exercise(t, &http.Client{Transport: rec}, srv.URL, binary)
		if err := rec.Stop(); err != nil {
			t.Fatal(err)
		}
		text := cassettetest.MustRead(t, name+".yaml")
		if !strings.Contains(text, "version: 2") || !strings.Contains(text, "!!binary") {
			t.Fatalf("go-vcr v4 did not write a version 2 file with a binary body:\n%s", text)
		}
		c := cassettetest.MustLoad(t, name+".yaml")
		checkRecorded(t, c, srv.URL, calls)
		if c.Interactions[2].Request.Proto != "HTTP/1.1" || c.Interactions[2].Request.ContentLength != int64(len(calls[2].reqBody)) {
			t.Errorf("POST proto %q content length %d", c.Interactions[2].Request.Proto, c.Interactions[2].Request.ContentLength)
		}
		appendAndReload(t, name, c, calls)
	})

	t.Run("v2", func(t *testing.T) {
		srv := origin(t, binary)
		name := filepath.Join(t.TempDir(), "v2rec")
		rec, err := rec2.NewAsMode(name, rec2.ModeRecording, srv.Client().Transport)
		if err != nil {
			t.Fatal(err)
		}
		calls := exercise(t, &http.Client{Transport: rec}, srv.URL, binary)
		if err := rec.Stop(); err != nil {
			t.Fatal(err)
		}
		text := cassettetest.MustRead(t, name+".yaml")
		if !strings.Contains(text, "version: 1") || strings.Contains(text, "id:") {
			t.Fatalf("go-vcr v2 did not write a version 1 file:\n%s", text)
		}
		c := cassettetest.MustLoad(t, name+".yaml")
		checkRecorded(t, c, srv.URL, calls)
		appendAndReload(t, name, c, calls)
	})
}

// appendAndReload continues a go-vcr recording with azvcr's journal and checks that azvcr and
// go-vcr v4 both still read the whole file.
func appendAndReload(t *testing.T, name string, before *cassette.Cassette, calls []recorded) {
	t.Helper()
	j, prev, err := cassette.OpenAppend(name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	cassettetest.SameInteractions(t, prev.Interactions, before.Interactions)
	extra := cassettetest.Clone(cassettetest.SampleInteractions(t)[2])
	if err := j.Add(extra); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if extra.ID != len(calls) {
		t.Errorf("appended id %d, want %d", extra.ID, len(calls))
	}
	after := cassettetest.MustLoad(t, name+".yaml")
	cassettetest.SameInteractions(t, after.Interactions, append(before.Interactions, extra))

	c4, err := vcr4.Load(name)
	if err != nil {
		t.Fatalf("go-vcr v4 cannot load the continued file: %v", err)
	}
	if len(c4.Interactions) != len(calls)+1 {
		t.Fatalf("go-vcr v4 sees %d interactions", len(c4.Interactions))
	}
	for i := range calls {
		if c4.Interactions[i].Response.Body != calls[i].respBody {
			t.Errorf("go-vcr v4 interaction %d body %q", i, c4.Interactions[i].Response.Body)
		}
	}
	if c4.Interactions[len(calls)].Response.Body != extra.Response.Body {
		t.Errorf("go-vcr v4 appended body differs")
	}
}
