package engine

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/matcher"
)

// endless is a body that never ends, counting what was read of it.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.read += int64(len(p))
	return len(p), nil
}

type memorySink struct {
	mu  sync.Mutex
	its []*cassette.Interaction
}

func (s *memorySink) Add(it *cassette.Interaction) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.its = append(s.its, it)
	return nil
}

type answer func(*http.Request) (*http.Response, error)

func (a answer) RoundTrip(r *http.Request) (*http.Response, error) { return a(r) }

// A request body over the limit is answered 413 with a message naming the flag, and at most
// the limit (plus one byte) of it is read, however much the client sends or declares.
func TestRequestBodyLimit(t *testing.T) {
	const limit = 64 << 10
	idx, err := matcher.New(cassettetest.WithIDs(cassettetest.SampleInteractions(t)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Replay, WithIndex(idx), WithMaxBodySize(limit))
	if err != nil {
		t.Fatal(err)
	}
	for _, declared := range []int64{-1, 10 << 30} { // unknown (chunked), or declared too large
		body := &endless{}
		r, _ := http.NewRequest("POST", "https://acct.documents.azure.com/dbs/d/colls/c/docs", io.NopCloser(body))
		r.ContentLength = declared
		resp := e.Handle(r)
		msg, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(msg), "larger than 64 KiB") || !strings.Contains(string(msg), "--max-body-size") {
			t.Errorf("declared %d: %d %q", declared, resp.StatusCode, msg)
		}
		if !resp.Close || resp.Header.Get("Connection") != "close" {
			t.Errorf("declared %d: the connection is kept open with the rest of the body unread", declared)
		}
		if body.read > limit+1+32<<10 {
			t.Errorf("declared %d: %d bytes read for a limit of %d", declared, body.read, limit)
		}
	}
	// Within the limit, the request is matched as ever.
	r, _ := http.NewRequest("POST", "https://acct.documents.azure.com/dbs/d/colls/c/docs", strings.NewReader(strings.Repeat("b", limit)))
	if resp := e.Handle(r); resp.StatusCode != MissStatus {
		t.Errorf("a body at the limit: %d, want a miss", resp.StatusCode)
	}
	if e.maxBody = 0; e.Handle(func() *http.Request {
		r, _ := http.NewRequest("POST", "https://acct.documents.azure.com/x", strings.NewReader(strings.Repeat("b", 2*limit)))
		return r
	}()).StatusCode != MissStatus {
		t.Error("no limit (0) still refused a body")
	}
}

// An upstream answer over the limit, as sent or once inflated, is refused with 502 and the flag
// named, and nothing is recorded.
func TestResponseBodyLimit(t *testing.T) {
	const limit = 64 << 10
	big := strings.Repeat("z", 4*limit)
	for _, tc := range []struct {
		name string
		resp func() *http.Response
	}{
		{"plain", func() *http.Response {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(big)), ContentLength: -1}
		}},
		{"declared", func() *http.Response {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(&endless{}), ContentLength: 1 << 40}
		}},
		{"gzip that inflates past the limit", func() *http.Response {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Encoding": {"gzip"}}, Body: io.NopCloser(strings.NewReader(string(cassettetest.Gzip(t, big))))}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &memorySink{}
			up := answer(func(r *http.Request) (*http.Response, error) { resp := tc.resp(); resp.Request = r; return resp, nil })
			e, err := New(Record, WithSink(sink), WithUpstream(up), WithMaxBodySize(limit))
			if err != nil {
				t.Fatal(err)
			}
			r, _ := http.NewRequest("GET", "https://acct.documents.azure.com/dbs", nil)
			resp := e.Handle(r)
			msg, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(msg), "--max-body-size") {
				t.Errorf("%d %q", resp.StatusCode, msg)
			}
			if len(sink.its) != 0 {
				t.Errorf("%d interactions recorded", len(sink.its))
			}
		})
	}
}

func TestParseAndFormatSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1024": 1024, "64MiB": 64 << 20, "64 mib": 64 << 20, "2MB": 2_000_000, "1.5GiB": 3 << 29, "100k": 100 << 10, "12B": 12} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1", "1.2.3", "12 parsecs", "1e99GiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
	for in, want := range map[int64]string{64 << 20: "64 MiB", 3 << 29: "1.5 GiB", 100 << 10: "100 KiB", 12: "12 bytes"} {
		if got := FormatSize(in); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", in, got, want)
		}
	}
	if e, _ := New(Passthrough, WithUpstream(answer(nil))); e.maxBody != DefaultMaxBodySize {
		t.Errorf("default limit %d, want %d", e.maxBody, DefaultMaxBodySize)
	}
}
