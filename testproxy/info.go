package testproxy

import (
	"fmt"
	"html"
	"net/http"
	"sort"
	"strings"
)

// What /Info/Available describes: each class a harness may name, with its arguments.
var (
	availableSanitizers = map[string]string{
		"GeneralRegexSanitizer":               "value, regex, groupForReplace, condition: a regex replace across the URI, the first value of every header and text bodies.",
		"GeneralStringSanitizer":              "target, value, condition: a literal replace across the URI, the first value of every header and text bodies.",
		"HeaderRegexSanitizer":                "key, value, regex, groupForReplace, condition: a regex replace in every value of one header.",
		"HeaderStringSanitizer":               "key, target, value, condition: a literal replace in one header.",
		"BodyRegexSanitizer":                  "value, regex, groupForReplace, condition: a regex replace in text bodies.",
		"BodyStringSanitizer":                 "target, value, condition: a literal replace in text bodies.",
		"BodyKeySanitizer":                    "jsonPath, value, regex, groupForReplace, condition: a regex replace inside the JSON values a path selects.",
		"UriRegexSanitizer":                   "value, regex, groupForReplace, condition: a regex replace in the request URI.",
		"UriStringSanitizer":                  "target, value, condition: a literal replace in the request URI.",
		"UriSubscriptionIdSanitizer":          "value, condition: the subscription id in the request URI.",
		"RemoveHeaderSanitizer":               "headersForRemoval, condition: removes headers (a comma-separated list).",
		"RegexEntrySanitizer":                 "target, regex: drops entries whose request uri, header or body matches.",
		"OAuthResponseSanitizer":              "drops the token requests of OAuth flows.",
		"ContinuationSanitizer":               "key, method, resetAfterFirst: a header a response issues and the next request carries becomes a new GUID on both.",
		"ContentDispositionFilePathSanitizer": "file paths in multipart Content-Disposition filenames keep their last element.",
	}
	availableMatchers = map[string]string{
		"CustomDefaultMatcher": "compareBodies, excludedHeaders, ignoredHeaders, ignoreQueryOrdering, ignoredQueryParameters: the default matcher, adjusted.",
		"BodilessMatcher":      "the default matcher without bodies (and Content-Length).",
		"HeaderlessMatcher":    "the default matcher without headers.",
	}
	availableTransforms = map[string]string{
		"HeaderTransform":           "key, value, condition: sets a response header.",
		"StorageRequestIdTransform": "condition: copies the request's x-ms-client-request-id onto the response.",
		"ClientIdTransform":         "condition: copies the request's x-ms-client-id onto the response.",
		"ApiVersionTransform":       "condition: copies the request's api-version header onto the response.",
	}
)

// infoAvailable is test-proxy's page of every extension it offers.
func (s *Server) infoAvailable(w http.ResponseWriter, _ *http.Request) {
	var b strings.Builder
	page(&b, "Test-Proxy - Available Extensions")
	for _, sec := range []struct {
		title string
		items map[string]string
	}{{"Available Sanitizers", availableSanitizers}, {"Available Matchers", availableMatchers}, {"Available Transforms", availableTransforms}} {
		fmt.Fprintf(&b, "<h1>%s</h1>\n", sec.title)
		names := make([]string, 0, len(sec.items))
		for n := range sec.items {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "<table style=\"width:100%%\"><tr><td><h2>%s</h2></td></tr><tr><td><p>%s</p></td></tr></table>\n", n, html.EscapeString(sec.items[n]))
		}
	}
	b.WriteString("</body>\n</html>\n")
	writeHTML(w, b.String())
}

// infoActive is test-proxy's page of the extensions in force, server-wide or for the session
// named by ?id=.
func (s *Server) infoActive(w http.ResponseWriter, r *http.Request) {
	ids := s.reg.serverList()
	s.mu.Lock()
	ts := append([]*transform(nil), s.transforms...)
	m := s.matcher
	s.mu.Unlock()
	if id := r.URL.Query().Get("id"); id != "" {
		sess := s.activeSession(w, id, "")
		if sess == nil {
			return
		}
		m = s.recordMatcher(sess)
		sess.mu.Lock()
		ids = append([]string(nil), sess.sanitizers...)
		ts = append(ts, sess.transforms...)
		sess.mu.Unlock()
	}
	var b strings.Builder
	page(&b, "Test-Proxy - Active Extensions")
	b.WriteString("<h1>Active Sanitizers</h1>\n")
	for _, reg := range s.reg.resolve(ids) {
		fmt.Fprintf(&b, "<table style=\"width:100%%\"><tr><td><h2>%s</h2></td></tr><tr><td><p>%s</p><ul>\n", reg.kind, html.EscapeString(reg.id))
		keys := make([]string, 0, len(reg.args))
		for k := range reg.args {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "<li><span><code>%s</code></span>: \"%s\"</li>\n", k, html.EscapeString(fmt.Sprint(reg.args[k])))
		}
		b.WriteString("</ul></td></tr></table>\n")
	}
	b.WriteString("<h1>Active Matchers</h1>\n")
	fmt.Fprintf(&b, "<table style=\"width:100%%\"><tr><td><h2>RecordMatcher</h2></td></tr><tr><td><p>%s</p></td></tr></table>\n", html.EscapeString(fmt.Sprintf("%+v", m)))
	b.WriteString("<h1>Active Transforms</h1>\n")
	for _, t := range ts {
		fmt.Fprintf(&b, "<table style=\"width:100%%\"><tr><td><h2>%s</h2></td></tr><tr><td><p>%s</p></td></tr></table>\n", t.kind, html.EscapeString(t.listing()))
	}
	b.WriteString("</body>\n</html>\n")
	writeHTML(w, b.String())
}

func page(b *strings.Builder, title string) {
	fmt.Fprintf(b, "<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"viewport\" content=\"width=device-width\" />\n<title>%s</title>\n</head>\n<body>\n<h1>%s</h1>\n", title, title)
}

func writeHTML(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(body))
}
