package engine

import (
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/wire"
)

// hopHeaders belong to one connection, not to the exchange, and are never recorded or relayed.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// canonicalCopy spells header names canonically (recordings from other SDKs may hold
// content-encoding or content-length in lower case), its values in one new array as
// Header.Clone makes them.
func canonicalCopy(h http.Header) http.Header {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	vals := make([]string, n)
	out := make(http.Header, len(h))
	for k, v := range h {
		ck := http.CanonicalHeaderKey(k)
		if prev := out[ck]; prev != nil { // names that differ only in case: rare
			out[ck] = append(prev[:len(prev):len(prev)], v...)
			continue
		}
		if len(v) == 0 {
			if _, ok := out[ck]; !ok {
				out[ck] = nil
			}
			continue
		}
		c := copy(vals, v)
		out[ck], vals = vals[:c:c], vals[c:]
	}
	return out
}

// startsWithCode reports whether status starts with code in decimal.
func startsWithCode(status string, code int) bool {
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], int64(code), 10)
	return len(status) >= len(digits) && status[:len(digits)] == string(digits)
}

func cleanHeader(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	dropHopHeaders(out, h)
	return out
}

// dropHopHeaders deletes from out the hop-by-hop headers, and those the Connection header of
// from names.
func dropHopHeaders(out, from http.Header) {
	if conn := from.Get("Connection"); conn != "" {
		for _, f := range strings.Split(conn, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out.Del(f)
			}
		}
	}
	for _, k := range hopHeaders {
		delete(out, k) // Del, for names already canonical
	}
}

// requestFromHTTP captures a live request as the cassette stores it, with the names of its header
// lines as the way in saw them (see wire.Exchange), when it saw them.
func requestFromHTTP(r *http.Request, body string) cassette.Request {
	req := requestWith(r, body, cleanHeader(r.Header))
	req.HeaderNames = fitNames(req.Headers, wire.From(r.Context()).RequestNames())
	return req
}

// requestWith is r as the cassette stores a request, with header h and no header names.
func requestWith(r *http.Request, body string, h http.Header) cassette.Request {
	return cassette.Request{
		Proto:         r.Proto,
		ProtoMajor:    r.ProtoMajor,
		ProtoMinor:    r.ProtoMinor,
		ContentLength: int64(len(body)),
		Host:          r.Host,
		Body:          body,
		Headers:       h,
		URL:           r.URL.String(),
		Method:        r.Method,
	}
}

// fitNames is wire.Fit for names that are known: unknown (nil) stays unknown.
func fitNames(h http.Header, names []string) []string {
	if names == nil {
		return nil
	}
	return wire.Fit(h, names)
}

// readResponse reads an upstream response whole and decodes its body, so cassettes hold readable
// bodies and replays need not compress. names are those of its header lines as sent, when the
// transport saw them. Bodies over limit, raw or decoded, are an error.
func readResponse(resp *http.Response, names []string, took time.Duration, limit int64) (cassette.Response, error) {
	defer resp.Body.Close()
	raw, err := readBody(resp.Body, resp.ContentLength, limit, "response body")
	if err != nil {
		return cassette.Response{}, err
	}
	h := cleanHeader(resp.Header)
	body := raw
	if enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))); enc != "" {
		decoded, ok, derr := decodeBody(enc, raw, limit)
		if derr != nil {
			return cassette.Response{}, fmt.Errorf("decoding %s body: %w", enc, derr)
		}
		if ok {
			body = decoded
			h.Del("Content-Encoding")
		}
	}
	if !isHead(resp.Request) { // a HEAD answer's length describes the body a GET would get
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return cassette.Response{
		Proto:         resp.Proto,
		ProtoMajor:    resp.ProtoMajor,
		ProtoMinor:    resp.ProtoMinor,
		ContentLength: int64(len(body)),
		Body:          body,
		Headers:       h,
		HeaderNames:   fitNames(h, names),
		Status:        resp.Status,
		Code:          resp.StatusCode,
		Duration:      took.Round(time.Microsecond).String(),
	}, nil
}

// decodeBody undoes gzip and deflate, up to limit bytes decoded. Other encodings are kept as
// they came (ok false).
func decodeBody(enc, raw string, limit int64) (string, bool, error) {
	var rd io.Reader
	switch enc {
	case "gzip", "x-gzip":
		if len(raw) == 0 {
			return raw, true, nil
		}
		zr, err := gzip.NewReader(strings.NewReader(raw))
		if err != nil {
			return "", false, err
		}
		rd = zr
	case "deflate":
		rd = flate.NewReader(strings.NewReader(raw))
	case "identity":
		return raw, true, nil
	default:
		return "", false, nil
	}
	out, err := readBody(rd, -1, limit, "decoded response body")
	return out, err == nil, err
}

// responseFromCassette turns a recorded response into one for the client. Bodies are stored
// decoded, so any recorded Content-Encoding is dropped and the length is the stored body's.
func responseFromCassette(r *http.Request, rec *cassette.Response) *http.Response {
	h := canonicalCopy(rec.Headers)
	dropHopHeaders(h, h)
	body := rec.Body // read in place: a replayed body is not copied
	if enc := strings.ToLower(h.Get("Content-Encoding")); enc == "gzip" || enc == "x-gzip" || enc == "deflate" || enc == "identity" {
		h.Del("Content-Encoding")
	}
	length := int64(len(body))
	if isHead(r) {
		length, _ = strconv.ParseInt(h.Get("Content-Length"), 10, 64)
		body = ""
	}
	setLength(h, strconv.FormatInt(length, 10))
	status := rec.Status
	if status == "" || !startsWithCode(status, rec.Code) {
		status = fmt.Sprintf("%d %s", rec.Code, http.StatusText(rec.Code))
	}
	return replayedResponse(r, rec.Code, status, h, length, body)
}

// replayedResponse is the response to r with this status, header and length, its body read in place from
// body.
func replayedResponse(r *http.Request, code int, status string, h http.Header, length int64, body string) *http.Response {
	resp := &http.Response{
		StatusCode:    code,
		Status:        status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		ContentLength: length,
		Body:          http.NoBody,
		Request:       r,
	}
	if len(body) > 0 {
		rb := &replayBody{}
		rb.Reset(body)
		resp.Body = rb
	}
	return resp
}

// replayBody is a recorded body being read: a strings.Reader that closes (NopCloser over
// strings.NewReader, in one allocation instead of two).
type replayBody struct{ strings.Reader }

func (*replayBody) Close() error { return nil }

// setLength is h.Set("Content-Length", cl), keeping the recorded line when it says so already.
func setLength(h http.Header, cl string) {
	if v := h["Content-Length"]; len(v) != 1 || v[0] != cl {
		h["Content-Length"] = []string{cl}
	}
}

func isHead(r *http.Request) bool { return r != nil && r.Method == http.MethodHead }

func cloneRequest(r cassette.Request) cassette.Request {
	r.Headers = r.Headers.Clone()
	r.HeaderNames = slices.Clone(r.HeaderNames)
	return r
}

func cloneResponse(r cassette.Response) cassette.Response {
	r.Headers = r.Headers.Clone()
	r.HeaderNames = slices.Clone(r.HeaderNames)
	return r
}
