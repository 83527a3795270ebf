package engine

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/matcher"
)

// TestReadyAnswerAsMadeAnew holds the answers made once per recording to the answer made anew
// for each request (responseFromCassette, then shapeReplayed), for every kind of recording the
// head depends on, each served several times, by engines that shape and that share answers.
func TestReadyAnswerAsMadeAnew(t *testing.T) {
	recordings := []struct {
		name string
		resp cassette.Response
	}{
		{"cosmos read", cassette.Response{Code: 200, Status: "200 OK", Body: `{"id":"a"}`,
			Headers: http.Header{"Content-Type": {"application/json"}, "Content-Length": {"10"}, "X-Ms-Request-Charge": {"1"}}}},
		{"lower-case names and an encoding", cassette.Response{Code: 200, Status: "200 OK", Body: `{"id":"b"}`,
			Headers: http.Header{"content-type": {"application/json"}, "content-encoding": {"gzip"}, "content-length": {"3"}}}},
		{"hop-by-hop headers", cassette.Response{Code: 200, Body: "x",
			Headers: http.Header{"Connection": {"X-Hop"}, "X-Hop": {"1"}, "Keep-Alive": {"5"}, "Transfer-Encoding": {"chunked"}}}},
		{"long-running operation", cassette.Response{Code: 202, Status: "202 Accepted",
			Headers: http.Header{"Azure-Asyncoperation": {"https://management.azure.com/x"}, "Retry-After": {"10"}}}},
		{"throttled", cassette.Response{Code: 429, Status: "429 Too Many Requests", Body: `{"code":"429"}`,
			Headers: http.Header{"X-Ms-Retry-After-Ms": {"500"}}}},
		{"odd status line", cassette.Response{Code: 404, Status: "Not Found", Body: "none"}},
		{"empty value and no header", cassette.Response{Code: 204, Headers: http.Header{"X-Empty": nil}}},
	}
	requests := []struct{ method, url string }{
		{"GET", "https://acct.documents.azure.com/dbs/db/colls/c/docs/a"},
		{"GET", "https://management.azure.com/subscriptions/s/providers/Microsoft.DocumentDB/locations/westus/operationsStatus/op?api-version=1"},
		{"HEAD", "https://acct.documents.azure.com/dbs/db"},
	}
	faces := []struct {
		name  string
		opts  []Option
		shape func(*http.Request, *cassette.Interaction, *http.Response)
	}{
		{"default", nil, nil},
		{"shared answers", []Option{WithSharedAnswers()}, nil},
		{"own shaping", []Option{WithSharedAnswers()}, func(_ *http.Request, _ *cassette.Interaction, resp *http.Response) {
			resp.Header.Add("X-Shaped", "1") // Add: an edit of a shared head would show twice next round
		}},
	}
	// One memo per recording, shared by the engines as an index would be: each engine keeps
	// answers of its own.
	memos := make([]matcher.Memo, len(recordings))
	for _, face := range faces {
		e := &Engine{shape: face.shape}
		for _, o := range face.opts {
			o(e)
		}
		for ri, rec := range recordings {
			it := &cassette.Interaction{Response: rec.resp}
			memo := &memos[ri]
			for _, rq := range requests {
				for round := range 3 {
					r := httptest.NewRequest(rq.method, rq.url, nil)
					want := responseFromCassette(r, &it.Response)
					if face.shape == nil {
						shapeReplayed(r, want)
					}
					got, _ := e.replayAnswer(r, it, memo)
					if face.shape != nil { // as Handle does: the face's shaping on each answer
						face.shape(r, it, want)
						face.shape(r, it, got)
					}
					where := face.name + "/" + rec.name + "/" + rq.method + " " + rq.url
					if got.StatusCode != want.StatusCode || got.Status != want.Status || got.ContentLength != want.ContentLength ||
						got.Request != r || got.Proto != "HTTP/1.1" {
						t.Fatalf("%s round %d: got %d %q length %d, want %d %q length %d", where, round,
							got.StatusCode, got.Status, got.ContentLength, want.StatusCode, want.Status, want.ContentLength)
					}
					if !reflect.DeepEqual(got.Header, want.Header) {
						t.Fatalf("%s round %d: header\n got %v\nwant %v", where, round, got.Header, want.Header)
					}
					gb, _ := io.ReadAll(got.Body)
					wb, _ := io.ReadAll(want.Body)
					if string(gb) != string(wb) {
						t.Fatalf("%s round %d: body %q, want %q", where, round, gb, wb)
					}
					if !e.sharedAnswers {
						got.Header.Set("X-Changed-By-The-Caller", "1") // a caller's edit stays its own
					}
				}
			}
		}
	}
}

// TestSharedAnswersShareOnlyTheHead: with WithSharedAnswers, the answers a recording gives have
// one header map (read only), and bodies of their own; without it, each has its own header.
func TestSharedAnswersShareOnlyTheHead(t *testing.T) {
	it := &cassette.Interaction{Response: cassette.Response{Code: 200, Body: "abc", Headers: http.Header{"X-A": {"1"}}}}
	r := httptest.NewRequest("GET", "https://acct.documents.azure.com/dbs/db", nil)
	for _, shared := range []bool{false, true} {
		e := &Engine{sharedAnswers: shared}
		memo := &matcher.Memo{}
		a, _ := e.replayAnswer(r, it, memo)
		b, _ := e.replayAnswer(r, it, memo)
		same := reflect.ValueOf(a.Header).UnsafePointer() == reflect.ValueOf(b.Header).UnsafePointer()
		if same != shared {
			t.Errorf("shared %v: the two answers share their header: %v", shared, same)
		}
		io.ReadAll(a.Body)
		if rest, _ := io.ReadAll(b.Body); string(rest) != "abc" {
			t.Errorf("shared %v: the second answer's body is %q after the first was read", shared, rest)
		}
	}
}
