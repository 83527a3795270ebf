package engine

import (
	"bytes"
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

// canonicalHeader spells header names canonically: recordings from other SDKs may hold
// content-encoding or content-length in lower case.
func canonicalHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], v...)
	}
	return out
}

func cleanHeader(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for _, f := range strings.Split(h.Get("Connection"), ",") { // headers the Connection header names
		if f = strings.TrimSpace(f); f != "" {
			out.Del(f)
		}
	}
	for _, k := range hopHeaders {
		out.Del(k)
	}
	return out
}

// requestFromHTTP captures a live request as the cassette stores it, with the names of its header
// lines as the way in saw them (see wire.Exchange), when it saw them.
func requestFromHTTP(r *http.Request, body []byte) cassette.Request {
	h := cleanHeader(r.Header)
	return cassette.Request{
		Proto:         r.Proto,
		ProtoMajor:    r.ProtoMajor,
		ProtoMinor:    r.ProtoMinor,
		ContentLength: int64(len(body)),
		Host:          r.Host,
		Body:          string(body),
		Headers:       h,
		HeaderNames:   fitNames(h, wire.From(r.Context()).RequestNames()),
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
// transport saw them.
func readResponse(resp *http.Response, names []string, took time.Duration) (cassette.Response, error) {
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return cassette.Response{}, err
	}
	h := cleanHeader(resp.Header)
	body := raw
	if enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))); enc != "" {
		decoded, derr := decodeBody(enc, raw)
		if derr != nil {
			return cassette.Response{}, fmt.Errorf("decoding %s body: %w", enc, derr)
		}
		if decoded != nil {
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
		Body:          string(body),
		Headers:       h,
		HeaderNames:   fitNames(h, names),
		Status:        resp.Status,
		Code:          resp.StatusCode,
		Duration:      took.Round(time.Microsecond).String(),
	}, nil
}

// decodeBody undoes gzip and deflate. Other encodings are kept as they came (nil, nil).
func decodeBody(enc string, raw []byte) ([]byte, error) {
	var rd io.Reader
	switch enc {
	case "gzip", "x-gzip":
		if len(raw) == 0 {
			return raw, nil
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		rd = zr
	case "deflate":
		rd = flate.NewReader(bytes.NewReader(raw))
	case "identity":
		return raw, nil
	default:
		return nil, nil
	}
	return io.ReadAll(rd)
}

// responseFromCassette turns a recorded response into one for the client. Bodies are stored
// decoded, so any recorded Content-Encoding is dropped and the length is the stored body's.
func responseFromCassette(r *http.Request, rec *cassette.Response) *http.Response {
	h := cleanHeader(canonicalHeader(rec.Headers))
	body := []byte(rec.Body)
	if enc := strings.ToLower(h.Get("Content-Encoding")); enc == "gzip" || enc == "x-gzip" || enc == "deflate" || enc == "identity" {
		h.Del("Content-Encoding")
	}
	length := int64(len(body))
	if isHead(r) {
		length, _ = strconv.ParseInt(h.Get("Content-Length"), 10, 64)
		body = nil
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	status := rec.Status
	if status == "" || !strings.HasPrefix(status, strconv.Itoa(rec.Code)) {
		status = fmt.Sprintf("%d %s", rec.Code, http.StatusText(rec.Code))
	}
	resp := &http.Response{
		StatusCode:    rec.Code,
		Status:        status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		ContentLength: length,
		Body:          io.NopCloser(bytes.NewReader(body)),
		Request:       r,
	}
	if len(body) == 0 {
		resp.Body = http.NoBody
	}
	return resp
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
