package engine

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/matcher"
)

func deflated(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	zw.Write([]byte(s))
	zw.Close()
	return buf.Bytes()
}

func TestCleanHeader(t *testing.T) {
	in := http.Header{
		"Connection":          {"keep-alive, X-Custom-Hop"},
		"X-Custom-Hop":        {"1"},
		"Proxy-Connection":    {"keep-alive"},
		"Keep-Alive":          {"timeout=5"},
		"Proxy-Authorization": {"Basic secret"},
		"Te":                  {"trailers"},
		"Trailer":             {"X-T"},
		"Transfer-Encoding":   {"chunked"},
		"Upgrade":             {"h2c"},
		"Authorization":       {"type=master"},
		"X-Ms-Continuation":   {"tok"},
	}
	out := cleanHeader(in)
	for _, k := range []string{"Connection", "X-Custom-Hop", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"} {
		if _, ok := out[k]; ok {
			t.Errorf("hop header %s kept", k)
		}
	}
	if out.Get("Authorization") != "type=master" || out.Get("X-Ms-Continuation") != "tok" {
		t.Errorf("end-to-end headers lost: %v", out)
	}
	if in.Get("Connection") == "" || in.Get("X-Custom-Hop") == "" {
		t.Error("cleanHeader modified its input")
	}
	if got := cleanHeader(nil); got == nil || len(got) != 0 {
		t.Errorf("cleanHeader(nil) = %#v, want an empty header", got)
	}
}

func TestDecodeBody(t *testing.T) {
	const text = `{"id":"x","n":1}`
	tests := []struct {
		enc     string
		raw     []byte
		want    []byte // nil: kept as is
		wantErr bool
	}{
		{"gzip", cassettetest.Gzip(t, text), []byte(text), false},
		{"x-gzip", cassettetest.Gzip(t, text), []byte(text), false},
		{"deflate", deflated(t, text), []byte(text), false},
		{"identity", []byte(text), []byte(text), false},
		{"gzip", []byte{}, []byte{}, false},
		{"br", []byte("\x0b\x02"), nil, false},
		{"gzip", []byte("not gzip at all"), nil, true},
	}
	for _, tc := range tests {
		got, ok, err := decodeBody(tc.enc, string(tc.raw), 0)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want error %v", tc.enc, err, tc.wantErr)
			continue
		}
		if tc.wantErr {
			continue
		}
		if ok != (tc.want != nil) || got != string(tc.want) {
			t.Errorf("%s: got %q, want %q", tc.enc, got, tc.want)
		}
	}
}

func TestReadResponse(t *testing.T) {
	body := strings.Repeat(`{"id":"x"}`, 50)
	resp := &http.Response{
		Status: "200 OK", StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Encoding":    {"gzip"},
			"Content-Length":      {"12"},
			"Transfer-Encoding":   {"chunked"},
			"X-Ms-Request-Charge": {"1.5"},
		},
		Body: io.NopCloser(bytes.NewReader(cassettetest.Gzip(t, body))),
	}
	rec, err := readResponse(resp, nil, 1234567, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Body != body || rec.ContentLength != int64(len(body)) {
		t.Errorf("body %q (%d), want the decoded %d bytes", rec.Body[:min(20, len(rec.Body))], rec.ContentLength, len(body))
	}
	if rec.Headers.Get("Content-Encoding") != "" || rec.Headers.Get("Transfer-Encoding") != "" {
		t.Errorf("encoding headers kept: %v", rec.Headers)
	}
	if rec.Headers.Get("Content-Length") != "500" || rec.Headers.Get("X-Ms-Request-Charge") != "1.5" {
		t.Errorf("headers = %v", rec.Headers)
	}
	if rec.Code != 200 || rec.Status != "200 OK" || rec.Duration != "1.235ms" {
		t.Errorf("code %d status %q duration %q", rec.Code, rec.Status, rec.Duration)
	}

	// An encoding azvcr cannot undo is kept, with its header, byte for byte.
	br := &http.Response{StatusCode: 200, Header: http.Header{"Content-Encoding": {"br"}}, Body: io.NopCloser(strings.NewReader("\x0b\x02"))}
	rec, err = readResponse(br, nil, 0, 0)
	if err != nil || rec.Body != "\x0b\x02" || rec.Headers.Get("Content-Encoding") != "br" {
		t.Errorf("br: %+v, %v", rec, err)
	}

	bad := &http.Response{StatusCode: 200, Header: http.Header{"Content-Encoding": {"gzip"}}, Body: io.NopCloser(strings.NewReader("nope"))}
	if _, err := readResponse(bad, nil, 0, 0); err == nil || !strings.Contains(err.Error(), "decoding gzip body") {
		t.Errorf("corrupt gzip: err = %v", err)
	}
}

func TestResponseFromCassette(t *testing.T) {
	r, _ := http.NewRequest("GET", "https://acct.documents.azure.com/dbs", nil)
	tests := []struct {
		name       string
		rec        cassette.Response
		wantStatus string
	}{
		{"status kept", cassette.Response{Code: 200, Status: "200 OK", Body: "abc"}, "200 OK"},
		{"status missing", cassette.Response{Code: 201, Body: "abc"}, "201 Created"},
		{"status inconsistent", cassette.Response{Code: 404, Status: "200 OK", Body: "abc"}, "404 Not Found"},
		{"custom reason kept", cassette.Response{Code: 449, Status: "449 Retry With", Body: "abc"}, "449 Retry With"},
		{"empty body", cassette.Response{Code: 204, Status: "204 No Content"}, "204 No Content"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.rec.Headers = http.Header{
				"Content-Encoding":    {"gzip"},
				"Content-Length":      {"999"},
				"Transfer-Encoding":   {"chunked"},
				"Connection":          {"close"},
				"X-Ms-Request-Charge": {"2.5"},
			}
			resp := responseFromCassette(r, &tc.rec)
			if resp.StatusCode != tc.rec.Code || resp.Status != tc.wantStatus {
				t.Errorf("status %d %q, want %d %q", resp.StatusCode, resp.Status, tc.rec.Code, tc.wantStatus)
			}
			body, _ := io.ReadAll(resp.Body)
			if string(body) != tc.rec.Body || resp.ContentLength != int64(len(tc.rec.Body)) {
				t.Errorf("body %q length %d", body, resp.ContentLength)
			}
			if tc.rec.Body == "" && resp.Body != http.NoBody {
				t.Error("empty body is not http.NoBody")
			}
			h := resp.Header
			if h.Get("Content-Encoding") != "" || h.Get("Transfer-Encoding") != "" || h.Get("Connection") != "" {
				t.Errorf("headers = %v", h)
			}
			if h.Get("Content-Length") != strconv.Itoa(len(tc.rec.Body)) || h.Get("X-Ms-Request-Charge") != "2.5" {
				t.Errorf("headers = %v", h)
			}
			if tc.rec.Headers.Get("Content-Length") != "999" {
				t.Error("responseFromCassette modified the recording")
			}
			if resp.Request != r {
				t.Error("response not tied to its request")
			}
		})
	}
}

func TestMissResponse(t *testing.T) {
	r, _ := http.NewRequest("GET", "https://acct.documents.azure.com/dbs", nil)
	m := &matcher.Miss{
		Method: "GET", URL: r.URL.String(), Reason: "no recorded interaction matches this request",
		Closest:     &matcher.Closest{ID: 3, Method: "GET", URL: "https://acct.documents.azure.com/dbs?x=1"},
		Differences: []string{"line one\nline two"},
	}
	resp := MissResponse(r, m)
	if resp.StatusCode != MissStatus || resp.Status != "490 No Recording" {
		t.Errorf("status %d %q", resp.StatusCode, resp.Status)
	}
	h := resp.Header.Get(MissHeader)
	if h == "" || strings.ContainsAny(h, "\r\n") || !strings.Contains(h, "closest recorded #3") {
		t.Errorf("%s = %q", MissHeader, h)
	}
	if resp.Header.Get("X-Ms-Error-Code") != "AzvcrNoRecording" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", resp.Header)
	}
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body["code"] != "AzvcrNoRecording" || body["reason"] != m.Reason || !strings.HasPrefix(body["message"].(string), "azvcr: GET ") {
		t.Errorf("body = %v", body)
	}
}

func TestHeaderSafe(t *testing.T) {
	if got := HeaderSafe("a\r\nb\tc\x7fd"); got != "a  b c d" {
		t.Errorf("headerSafe = %q", got)
	}
	long := HeaderSafe(strings.Repeat("x", 5000))
	if len(long) != 2000 || !strings.HasSuffix(long, "...") {
		t.Errorf("long header: %d bytes, suffix %q", len(long), long[len(long)-3:])
	}
	if got := HeaderSafe("plain"); got != "plain" {
		t.Errorf("HeaderSafe(plain) = %q", got)
	}
}

func TestParseMode(t *testing.T) {
	for _, tc := range []struct {
		in                         string
		want                       Mode
		forwards, replays, records bool
	}{
		{"record", Record, true, false, true},
		{"replay", Replay, false, true, false},
		{"auto", Auto, true, true, true},
		{"passthrough", Passthrough, true, false, false},
	} {
		m, err := ParseMode(tc.in)
		if err != nil || m != tc.want {
			t.Errorf("ParseMode(%q) = %q, %v", tc.in, m, err)
		}
		if m.Forwards() != tc.forwards || m.Replays() != tc.replays || m.Records() != tc.records {
			t.Errorf("%s: forwards %v replays %v records %v", m, m.Forwards(), m.Replays(), m.Records())
		}
	}
	for _, bad := range []string{"", "Record", "play", "recording"} {
		if _, err := ParseMode(bad); err == nil || !strings.Contains(err.Error(), "want record, replay, auto or passthrough") {
			t.Errorf("ParseMode(%q): err = %v", bad, err)
		}
	}
}

// Recordings from other SDKs spell header names in lower case; replay still drops the stored
// body's content-encoding and sends one, true, length.
func TestLowerCaseRecordedHeaders(t *testing.T) {
	rec := &cassette.Response{Code: 200, Body: "plain", Headers: http.Header{"content-encoding": {"gzip"}, "content-length": {"999"}, "x-other": {"a"}}}
	r, _ := http.NewRequest("GET", "https://a/", nil)
	resp := responseFromCassette(r, rec)
	if resp.Header.Get("Content-Encoding") != "" || len(resp.Header.Values("Content-Length")) != 1 || resp.Header.Get("Content-Length") != "5" || resp.Header.Get("X-Other") != "a" {
		t.Errorf("headers %v", resp.Header)
	}
}

// TestIsPollPathMatchesExpression holds the filtered test to the expression it stands for, on
// status endpoints in any case, near misses, and paths with bytes whose folding is Unicode's.
func TestIsPollPathMatchesExpression(t *testing.T) {
	words := []string{"operationsStatus", "OPERATIONSTATUSES", "operationResults", "asyncOperations", "Operation", "operations", "asyncoperation", "ſtatus", "aſyncOperations", "operationſtatus"}
	shapes := []string{"/%s/", "/subscriptions/x/providers/Microsoft.DocumentDB/locations/westus/%s/abc", "%s/", "/%s", "/a/%s/b/%s/", "/dbs/db1/colls/c1/docs/%s", "/é/%s/", "/%s/é"}
	for _, w := range words {
		for _, shape := range shapes {
			path := strings.ReplaceAll(shape, "%s", w)
			if got, want := isPollPath(path), pollPath.MatchString(path); got != want {
				t.Errorf("isPollPath(%q) = %v, want %v", path, got, want)
			}
		}
	}
	for _, path := range []string{"", "/", "/dbs/db1/colls/c1/docs", "/operation", "operation/", "/oPeRaTiOnReSuLtS/"} {
		if got, want := isPollPath(path), pollPath.MatchString(path); got != want {
			t.Errorf("isPollPath(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestSetLengthMatchesSet holds setLength to Header.Set on lengths recorded right, wrong, twice,
// empty, missing and in lower case.
func TestSetLengthMatchesSet(t *testing.T) {
	headers := []http.Header{
		{}, {"Content-Length": {"12"}}, {"Content-Length": {"13"}}, {"Content-Length": {"12", "12"}},
		{"Content-Length": {}}, {"Content-Length": nil}, {"content-length": {"12"}, "X": {"y"}},
	}
	for _, h := range headers {
		got, want := h.Clone(), h.Clone()
		setLength(got, "12")
		want.Set("Content-Length", "12")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("setLength(%v) = %v, want %v", h, got, want)
		}
	}
}
