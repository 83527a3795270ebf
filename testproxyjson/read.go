package testproxyjson

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/azvcr/azvcr/cassette"
)

// ---- reading: the tree of values to a cassette ----

// tpDecoder turns parsed nodes into a cassette, reporting errors at the offending value's line.
type tpDecoder struct {
	name  string
	data  []byte
	canon map[string]string // header name -> canonical name: recordings repeat the same few
}

// canonical is http.CanonicalHeaderKey(name), remembered.
func (d *tpDecoder) canonical(name string) string {
	if ck, ok := d.canon[name]; ok {
		return ck
	}
	ck := http.CanonicalHeaderKey(name)
	if d.canon == nil {
		d.canon = map[string]string{}
	}
	if len(d.canon) < 4096 { // bounded, whatever a file holds
		d.canon[name] = ck
	}
	return ck
}

func (d *tpDecoder) errAt(n *tpNode, format string, args ...any) *cassette.Error {
	return &cassette.Error{File: d.name, Line: lineAt(d.data, n.start), Msg: fmt.Sprintf(format, args...)}
}

func (d *tpDecoder) session(root *tpNode) (*cassette.Cassette, map[string]string, *cassette.Error) {
	if root.kind != tpObject {
		return nil, nil, d.errAt(root, `not a test-proxy recording: the top level must be an object with "Entries", got %s`, root.kind)
	}
	c := &cassette.Cassette{Version: cassette.Version, Interactions: []*cassette.Interaction{}}
	if entries := root.field("Entries"); entries != nil {
		if entries.kind != tpArray {
			return nil, nil, d.errAt(entries, "Entries must be an array, got %s", entries.kind)
		}
		for i, e := range entries.elems {
			it, err := d.entry(i, e)
			if err != nil {
				return nil, nil, err
			}
			c.Interactions = append(c.Interactions, it)
		}
	}
	vars := map[string]string{}
	if v := root.field("Variables"); v != nil {
		if v.kind != tpObject {
			return nil, nil, d.errAt(v, "Variables must be an object, got %s", v.kind)
		}
		seen := map[string]string{} // upper-case name -> name: the proxy's keys ignore case
		for i, k := range v.keys {
			val := v.elems[i]
			var s string
			switch val.kind {
			case tpString:
				s = val.str
			case tpNumber, tpBool:
				s = string(d.data[val.start:val.end])
			case tpNull:
			default:
				return nil, nil, d.errAt(val, "variable %q must be a string (or another JSON scalar), got %s", k, val.kind)
			}
			if prev, ok := seen[strings.ToUpper(k)]; ok {
				delete(vars, prev)
			}
			seen[strings.ToUpper(k)] = k
			vars[k] = s
		}
	}
	c.Variables = vars
	return c, vars, nil
}

func (d *tpDecoder) entry(i int, e *tpNode) (*cassette.Interaction, *cassette.Error) {
	if e.kind != tpObject {
		return nil, d.errAt(e, "entry %d must be an object, got %s", i, e.kind)
	}
	str := func(key string) (string, *tpNode, *cassette.Error) {
		v := e.field(key)
		if v == nil {
			return "", e, d.errAt(e, "entry %d has no %s", i, key)
		}
		if v.kind != tpString {
			return "", v, d.errAt(v, "entry %d: %s must be a string, got %s", i, key, v.kind)
		}
		return v.str, v, nil
	}
	if e.field("EncodedRequestUri") != nil {
		return nil, d.errAt(e, "entry %d is a track 1 recording (EncodedRequestUri), which azvcr does not read", i)
	}
	uri, uriNode, err := str("RequestUri")
	if err != nil {
		return nil, err
	}
	u, perr := url.Parse(uri)
	if perr != nil || !u.IsAbs() || u.Host == "" {
		return nil, d.errAt(uriNode, "entry %d: RequestUri %q is not an absolute URL", i, uri)
	}
	method, methodNode, err := str("RequestMethod")
	if err != nil {
		return nil, err
	}
	if method == "" {
		return nil, d.errAt(methodNode, "entry %d: RequestMethod is empty", i)
	}
	sc := e.field("StatusCode")
	if sc == nil {
		return nil, d.errAt(e, "entry %d has no StatusCode", i)
	}
	code, cerr := strconv.Atoi(string(d.data[sc.start:sc.end]))
	if sc.kind != tpNumber || cerr != nil {
		return nil, d.errAt(sc, "entry %d: StatusCode must be an integer, got %s", i, d.data[sc.start:sc.end])
	}
	if code < 100 || code > 999 {
		return nil, d.errAt(sc, "entry %d: StatusCode %d is not an HTTP status", i, code)
	}
	reqH, reqNames, err := d.headers(i, e, "RequestHeaders")
	if err != nil {
		return nil, err
	}
	respH, respNames, err := d.headers(i, e, "ResponseHeaders")
	if err != nil {
		return nil, err
	}
	reqBody, err := d.body(i, e, "RequestBody", reqH)
	if err != nil {
		return nil, err
	}
	respBody, err := d.body(i, e, "ResponseBody", respH)
	if err != nil {
		return nil, err
	}
	return &cassette.Interaction{
		ID: i,
		Request: cassette.Request{
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			ContentLength: int64(len(reqBody)),
			Host:          u.Host,
			Body:          reqBody,
			Headers:       reqH,
			HeaderNames:   reqNames,
			URL:           uri,
			Method:        method,
		},
		Response: cassette.Response{
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			ContentLength: int64(len(respBody)),
			Body:          respBody,
			Headers:       respH,
			HeaderNames:   respNames,
			Status:        strings.TrimSpace(fmt.Sprintf("%d %s", code, http.StatusText(code))),
			Code:          code,
			Duration:      "0s",
		},
	}, nil
}

// headers reads a header object (DeserializeHeaders) into canonical keys, and the names as
// written, in the file's order, one per value. Names that are equal ignoring case are one header:
// the later value replaces the earlier, the first spelling stays.
func (d *tpDecoder) headers(i int, e *tpNode, key string) (http.Header, []string, *cassette.Error) {
	n := e.field(key)
	if n == nil {
		return http.Header{}, nil, nil
	}
	if n.kind != tpObject {
		return nil, nil, d.errAt(n, "entry %d: %s must be an object, got %s", i, key, n.kind)
	}
	h := make(http.Header, len(n.keys))
	type spelling struct{ canonical, name string }
	order := make([]spelling, 0, len(n.keys)) // canonical names, first seen first, as first spelled
	single := make([]string, len(n.keys))     // one allocation for the headers with one value
	for j, name := range n.keys {
		v := n.elems[j]
		var vals []string
		switch v.kind {
		case tpString:
			single[j] = v.str
			vals = single[j : j+1 : j+1]
		case tpNull: // GetString() of null is null: a header with no text
			vals = single[j : j+1 : j+1]
		case tpArray:
			vals = make([]string, 0, len(v.elems))
			for _, el := range v.elems {
				switch el.kind {
				case tpString:
					vals = append(vals, el.str)
				case tpNull:
					vals = append(vals, "")
				default:
					return nil, nil, d.errAt(el, "entry %d: %s: %s: values must be strings, got %s", i, key, name, el.kind)
				}
			}
		default:
			return nil, nil, d.errAt(v, "entry %d: %s: %s must be a string or an array of strings, got %s", i, key, name, v.kind)
		}
		if !httpguts.ValidHeaderFieldName(name) {
			return nil, nil, d.errAt(v, "entry %d: %s: %q is not a header name", i, key, name)
		}
		ck := d.canonical(name)
		if _, seen := h[ck]; !seen {
			order = append(order, spelling{ck, name})
		}
		h[ck] = vals
	}
	names := make([]string, 0, len(n.keys))
	for _, o := range order {
		for range h[o.canonical] {
			names = append(names, o.name)
		}
	}
	if len(names) == 0 {
		names = nil // none, as a YAML cassette reads
	}
	return h, names, nil
}

// body decodes a RequestBody or ResponseBody (DeserializeBody, NormalizeJsonBody,
// DeserializeMultipartBody). It may update a Content-Length header in h.
func (d *tpDecoder) body(i int, e *tpNode, key string, h http.Header) (string, *cassette.Error) {
	n := e.field(key)
	if n == nil || n.kind == tpNull {
		return "", nil
	}
	ct, single := tpContentType(h)
	if single && tpIsText(ct) {
		var body string
		switch n.kind {
		case tpArray:
			var b strings.Builder
			for _, el := range n.elems {
				switch el.kind {
				case tpString:
					b.WriteString(el.str)
				case tpNull: // StringBuilder.Append(null) adds nothing
				default:
					return "", d.errAt(el, "entry %d: %s: the lines of a text body must be strings, got %s", i, key, el.kind)
				}
			}
			body = b.String()
		case tpString:
			body = n.str
		default: // inline JSON: its text as it stands in the file
			if tpIsJSON(ct) {
				compact, ok := compactInline(d.data[n.start:n.end])
				if ok {
					setContentLength(h, len(compact))
				}
				return compact, nil
			}
			body = string(d.data[n.start:n.end])
		}
		if tpIsJSON(ct) {
			if compact, ok := tpCompactJSON(body); ok {
				body = compact
				setContentLength(h, len(body))
			}
		}
		return body, nil
	}
	switch n.kind {
	case tpString:
		raw, err := decodeBase64(n.str)
		if err != nil {
			return "", d.errAt(n, "entry %d: %s is not valid base64 (Content-Type %q is not text, so the body is stored as base64): %v", i, key, ct, err)
		}
		return string(raw), nil
	case tpArray:
		if single && tpIsMultipart(ct) {
			return d.multipart(i, key, n)
		}
		return "", nil // the proxy reads an array under a non-text type as an empty body
	case tpObject:
		compact, _ := compactInline(d.data[n.start:n.end])
		return compact, nil
	default:
		return "", d.errAt(n, "entry %d: %s is %s, but Content-Type %q is not text: want base64 in a string", i, key, n.kind, ct)
	}
}

// multipart joins the parts form: "b64:" segments are base64, others ASCII (each non-ASCII UTF-16
// unit becomes '?', as Encoding.ASCII does), nested arrays mark empty parts.
func (d *tpDecoder) multipart(i int, key string, n *tpNode) (string, *cassette.Error) {
	var b strings.Builder
	for _, el := range n.elems {
		switch el.kind {
		case tpArray:
			continue
		case tpString:
		default:
			return "", d.errAt(el, "entry %d: %s: multipart segments must be strings, got %s", i, key, el.kind)
		}
		if rest, ok := strings.CutPrefix(el.str, "b64:"); ok {
			raw, err := decodeBase64(rest)
			if err != nil {
				return "", d.errAt(el, "entry %d: %s: multipart segment is not valid base64: %v", i, key, err)
			}
			b.Write(raw)
			continue
		}
		for _, r := range el.str {
			switch {
			case r < utf8.RuneSelf:
				b.WriteRune(r)
			case r > 0xFFFF:
				b.WriteString("??")
			default:
				b.WriteByte('?')
			}
		}
	}
	return b.String(), nil
}

// decodeBase64 is Convert.FromBase64String: padded standard base64, whitespace ignored.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}

// setContentLength updates an existing Content-Length header (UpdateSanitizedContentLength never
// adds one).
func setContentLength(h http.Header, n int) {
	for k := range h {
		if strings.EqualFold(k, "Content-Length") {
			h[k] = []string{strconv.Itoa(n)}
		}
	}
}
