package wire

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/net/http/httpguts"
)

// The fast request reader: a request head of the plain kind (what SDKs send), whole in the
// buffered reader, is read in one pass into the request http.ReadRequest makes of it, with one
// string for the head (names, values and target are parts of it) and one array for the values and
// names, where net/http copies each line and value. Anything else it declines, and the head goes
// the general way (http.ReadRequest through the tap); FuzzReadRequestFast holds the two to the
// same request, names and bytes consumed.

var crlfcrlf = []byte("\r\n\r\n")

// headEnd is where the head at the front of b ends (the index of its empty CRLF line's CR),
// when b holds it whole: then reading it needs no more reads from the connection. -1 otherwise.
func headEnd(b *bufio.Reader) int {
	buf, _ := b.Peek(b.Buffered())
	return bytes.Index(buf, crlfcrlf)
}

// readRequestFast reads the request at the front of r's buffer as http.ReadRequest would, with
// ctx as its context (none when nil), when its head is whole in the buffer (end is headEnd's) and
// of the plain kind; ok false when it declines (nothing is consumed then).
func (r *Reader) readRequestFast(ctx context.Context, end int) (req *http.Request, names []string, ok bool) {
	if end < 0 {
		return nil, nil, false
	}
	buf, _ := r.br.Peek(end + 4)
	var local http.Request
	names, bodyLen, ok := parseHeadFast(&local, string(buf[:end+2]))
	if !ok {
		return nil, nil, false
	}
	r.br.Discard(end + 4)
	if bodyLen > 0 {
		local.Body = &fixedBody{src: io.LimitedReader{R: r.br, N: bodyLen}, closing: local.Close}
	}
	if ctx == nil { // as http.ReadRequest makes it
		req = new(http.Request)
		*req = local
		return req, names, true
	}
	return local.WithContext(ctx), names, true
}

// parseHeadFast fills req from head (the request line and header lines, each ending with CRLF,
// without the empty line) as http.ReadRequest does, and returns the names of the header lines and
// the length of the body (Content-Length) to read; ok false for a head it does not take: not
// plain, or one net/http refuses or treats specially.
func parseHeadFast(req *http.Request, head string) (names []string, bodyLen int64, ok bool) {
	// The request line: method, target and version, all printable ASCII.
	i := strings.Index(head, "\r\n")
	line, rest := head[:i], head[i+2:]
	for j := 0; j < len(line); j++ {
		if c := line[j]; c < 0x20 || c > 0x7e {
			return nil, 0, false
		}
	}
	method, line, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(line, " ")
	if !ok1 || !ok2 || !httpguts.ValidHeaderFieldName(method) {
		return nil, 0, false
	}
	switch proto {
	case "HTTP/1.1":
		req.ProtoMajor, req.ProtoMinor = 1, 1
	case "HTTP/1.0":
		req.ProtoMajor, req.ProtoMinor = 1, 0
	default:
		return nil, 0, false
	}
	var err error
	if method == "CONNECT" && !strings.HasPrefix(target, "/") { // an authority, as net/http reads it
		if req.URL, err = url.ParseRequestURI("http://" + target); err == nil {
			req.URL.Scheme = ""
		}
	} else {
		req.URL, err = url.ParseRequestURI(target)
	}
	if err != nil {
		return nil, 0, false
	}
	req.Method, req.RequestURI, req.Proto = method, target, proto

	// The header lines: one array for the values (each a one-value slice of it, as net/http
	// makes them), the names and the keys; the map is made after, sized for the keys but Host
	// (which http.ReadRequest removes: it is never put in): a map of up to 8 is made in two
	// allocations, a larger one in four.
	n := strings.Count(rest, "\n") // each a line when every LF follows a CR, as checked below
	var vals, keys []string
	if n > 0 {
		vals = make([]string, 3*n)
		names, keys = vals[n:2*n:2*n], vals[2*n:]
	}
	var keyBuf [96]byte
	hosts := 0
	var host string
	for k := 0; k < n; k++ {
		i := strings.IndexByte(rest, '\n')
		if i < 1 || rest[i-1] != '\r' { // a bare LF: net/http ends the line there
			return nil, 0, false
		}
		line, rest = rest[:i-1], rest[i+1:]
		colon := strings.IndexByte(line, ':')
		if colon <= 0 || colon > len(keyBuf) {
			return nil, 0, false
		}
		name := line[:colon]
		key, ok := canonicalKey(name, &keyBuf) // not for spaces, continuation lines, bytes net/http refuses
		if !ok {
			return nil, 0, false
		}
		value := line[colon+1:]
		for j := 0; j < len(value); j++ {
			if c := value[j]; (c < 0x20 || c > 0x7e) && c != '\t' {
				return nil, 0, false
			}
		}
		switch key {
		case "Transfer-Encoding", "Pragma", "Trailer": // framing and edits net/http makes: its way
			return nil, 0, false
		case "Host":
			hosts++
		}
		names[k], keys[k], vals[k] = name, key, trimSpaceTab(value)
	}
	if hosts > 1 {
		return nil, 0, false
	}
	h := make(http.Header, n-hosts)
	for k := 0; k < n; k++ {
		if keys[k] == "Host" {
			host = vals[k]
			continue
		}
		if vv := h[keys[k]]; vv != nil {
			h[keys[k]] = append(vv, vals[k])
		} else {
			h[keys[k]] = vals[k : k+1 : k+1]
		}
	}
	contentLength := h["Content-Length"]
	if len(contentLength) > 1 {
		return nil, 0, false
	}
	if len(contentLength) == 1 {
		cl := contentLength[0]
		if cl == "" || len(cl) > 18 {
			return nil, 0, false
		}
		for j := 0; j < len(cl); j++ {
			if c := cl[j]; c < '0' || c > '9' {
				return nil, 0, false
			}
			bodyLen = bodyLen*10 + int64(cl[j]-'0')
		}
	}
	req.Host = req.URL.Host
	if req.Host == "" {
		req.Host = host
	}
	conn := h["Connection"]
	req.Close = httpguts.HeaderValuesContainsToken(conn, "close")
	if req.ProtoMinor == 0 {
		req.Close = req.Close || !httpguts.HeaderValuesContainsToken(conn, "keep-alive")
	}
	req.Header, req.ContentLength, req.Body = h, bodyLen, http.NoBody
	if n == 0 {
		names = nil
	}
	return names, bodyLen, true
}

// trimSpaceTab is s without leading and trailing spaces and tabs, as net/http trims values.
func trimSpaceTab(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

var tokenByte = func() (t [128]bool) {
	for c := range t {
		t[c] = httpguts.IsTokenRune(rune(c))
	}
	return t
}()

// canonicalKey is http.CanonicalHeaderKey(name), without a new string when name is canonical
// already or a common name; ok false when name is not a token (a header name as net/http takes
// it, spaces not included). name is not longer than buf.
func canonicalKey(name string, buf *[96]byte) (key string, ok bool) {
	b := buf[:len(name)]
	upper, same := true, true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 0x80 || !tokenByte[c] {
			return "", false
		}
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		same = same && c == name[i]
		b[i] = c
		upper = c == '-'
	}
	if same {
		return name, true
	}
	if k, ok := commonKeys[string(b)]; ok { // no copy for the lookup
		return k, true
	}
	return string(b), true
}

// commonKeys are the canonical names SDKs send, often in lower case (Node): found here, they need
// no string of their own.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control",
		"Connection", "Content-Encoding", "Content-Length", "Content-Type", "Cookie", "Date", "Expect",
		"Host", "If-Match", "If-Modified-Since", "If-None-Match", "Keep-Alive", "Origin", "Prefer", "Range",
		"Referer", "Te", "Traceparent", "Tracestate", "Upgrade", "User-Agent", "Via", "X-Forwarded-For",
		"X-Ms-Activity-Id", "X-Ms-Client-Request-Id", "X-Ms-Consistency-Level", "X-Ms-Continuation",
		"X-Ms-Cosmos-Allow-Tentative-Writes", "X-Ms-Cosmos-Correlated-Activityid", "X-Ms-Cosmos-Intended-Collection-Rid",
		"X-Ms-Cosmos-Is-Query-Plan-Request", "X-Ms-Cosmos-Query-Version", "X-Ms-Cosmos-Sdk-Supportedcapabilities",
		"X-Ms-Cosmos-Supported-Query-Features", "X-Ms-Date", "X-Ms-Documentdb-Isquery", "X-Ms-Documentdb-Partitionkey",
		"X-Ms-Documentdb-Partitionkeyrangeid", "X-Ms-Documentdb-Populatepartitionkeyrangestatistics",
		"X-Ms-Documentdb-Populatequerymetrics", "X-Ms-Documentdb-Query-Enablecrosspartition",
		"X-Ms-Documentdb-Query-Iscontinuationexpected", "X-Ms-Documentdb-Query-Parallelizecrosspartitionquery",
		"X-Ms-Documentdb-Responsecontinuationtokenlimitinkb", "X-Ms-Max-Item-Count", "X-Ms-Return-Client-Request-Id",
		"X-Ms-Session-Token", "X-Ms-Useragent", "X-Ms-Version", "X-Recording-Id", "X-Recording-Mode",
		"X-Recording-Upstream-Base-Uri", "X-Recording-Skip",
	} {
		m[k] = k
	}
	return m
}()

// fixedBody is a request body of a declared length, read from the connection as net/http's is:
// the data and io.EOF together at its end, io.ErrUnexpectedEOF when the connection ends first,
// and Close reading what is left (unless the connection closes after this request).
type fixedBody struct {
	mu      sync.Mutex
	src     io.LimitedReader
	closing bool
	sawEOF  bool
	closed  bool
}

func (b *fixedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	return b.readLocked(p)
}

func (b *fixedBody) readLocked(p []byte) (n int, err error) {
	if b.sawEOF {
		return 0, io.EOF
	}
	n, err = b.src.Read(p)
	if err == io.EOF {
		b.sawEOF = true
		if b.src.N > 0 {
			err = io.ErrUnexpectedEOF
		}
	}
	if err == nil && n > 0 && b.src.N == 0 {
		err, b.sawEOF = io.EOF, true
	}
	return n, err
}

func (b *fixedBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	var err error
	if !b.sawEOF && !b.closing {
		_, err = io.Copy(io.Discard, lockedBody{b})
	}
	b.closed = true
	return err
}

// lockedBody reads a fixedBody whose lock is held.
type lockedBody struct{ b *fixedBody }

func (l lockedBody) Read(p []byte) (int, error) { return l.b.readLocked(p) }
