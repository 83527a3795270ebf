package matcher

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/azvcr/azvcr/internal/hostport"
)

// readURL is what a request URL is read as for its key: the canonical scheme and host, the
// escaped path ("/" for none) and the query. URLs in the usual shape (http or https, a host of
// letters, digits, dots and hyphens, a path and query of plain characters) are read here in one
// pass; every other one by net/url, which the fast reading is held to (FuzzReadURL).
func readURL(raw string) (urlParts, error) {
	if up, ok := readPlainURL(raw); ok {
		return up, nil
	}
	return readURLSlowly(raw)
}

// readURLSlowly is readURL by net/url.
func readURLSlowly(raw string) (urlParts, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return urlParts{}, fmt.Errorf("request url %q: %w", raw, err)
	}
	up := urlParts{host: canonicalHost(u), path: u.EscapedPath(), query: u.Query()}
	if up.path == "" {
		up.path = "/"
	}
	return up, nil
}

// readPlainURL reads raw when it has the usual shape, and reports whether it had.
func readPlainURL(raw string) (urlParts, bool) {
	scheme, rest, ok := "https", "", false
	if rest, ok = strings.CutPrefix(raw, "https://"); !ok {
		if rest, ok = strings.CutPrefix(raw, "http://"); !ok {
			return urlParts{}, false
		}
		scheme = "http"
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	host, port, ok := hostport.SplitPlain(authority)
	if !ok {
		return urlParts{}, false
	}
	rest = rest[end:]
	path, query, hasQuery := strings.Cut(rest, "?")
	if !plainText(path, plainPathByte) || (hasQuery && !plainText(query, plainQueryByte)) {
		return urlParts{}, false
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	canonical := scheme + "://" + strings.ToLower(host) // no copy when it is lower case already
	if port != "" {
		canonical += ":" + port
	}
	if path == "" {
		path = "/"
	}
	q, _ := url.ParseQuery(query) // errors ignored, as url.URL.Query does
	return urlParts{host: canonical, path: path, query: q}, true
}

// plainPathByte: the bytes a path keeps as they are whether escaped or not (unreserved, and the
// separators net/url leaves alone in a path); no "%", so nothing to decode.
var plainPathByte = byteSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/$&+,:;=@")

// plainQueryByte: the path's, and "?"; a query is kept raw and split by url.ParseQuery, which
// decodes its "%" escapes.
var plainQueryByte = byteSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/$&+,:;=@?%")

func byteSet(s string) (set [256]bool) {
	for i := 0; i < len(s); i++ {
		set[s[i]] = true
	}
	return set
}

func plainText(s string, set [256]bool) bool {
	for i := 0; i < len(s); i++ {
		if !set[s[i]] {
			return false
		}
	}
	return true
}
