package engine

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// pollPath matches the status endpoints ARM resource providers hand out for long-running
// operations (Microsoft.DocumentDB's operationsStatus and operationResults among them).
var pollPath = regexp.MustCompile(`(?i)/(operationsStatus|operationStatuses|operationResults|asyncOperations)/`)

// shapeReplayed makes clients poll and retry at once on replayed answers. azcore treats
// Retry-After: 0 as absent and falls back to its 30 s poll interval, so the answer carries
// Retry-After-Ms: 1, which azcore (and the Python and JS cores) read first: on answers that start
// a long-running operation, on the answers to its status polls (which seldom carry Retry-After),
// and wherever Retry-After was recorded. Throttling answers get x-ms-retry-after-ms shrunk.
func shapeReplayed(r *http.Request, resp *http.Response) *http.Response {
	h := resp.Header
	lro := h.Get("Azure-Asyncoperation") != "" || h.Get("Operation-Location") != "" ||
		(h.Get("Location") != "" && (resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusAccepted)) ||
		isPollPath(r.URL.Path)
	if lro || h.Get("Retry-After") != "" || h.Get("Retry-After-Ms") != "" {
		h.Set("Retry-After-Ms", "1")
		if h.Get("Retry-After") != "" {
			h.Set("Retry-After", "0")
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || h.Get("X-Ms-Retry-After-Ms") != "" {
		if ms, err := strconv.ParseFloat(h.Get("X-Ms-Retry-After-Ms"), 64); err != nil || ms > 1 {
			h.Set("X-Ms-Retry-After-Ms", "1")
		}
	}
	return resp
}

// isPollPath is pollPath.MatchString without the regular expression for the paths that cannot
// match: every status endpoint's name holds "operation", and an ASCII path without it (in any
// case) has none. Paths with other bytes, whose case folding is Unicode's, go to the expression.
func isPollPath(path string) bool {
	const word = "operation"
	found := false
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c >= 0x80 {
			return pollPath.MatchString(path)
		}
		if !found && c|0x20 == 'o' && i+len(word) <= len(path) && strings.EqualFold(path[i:i+len(word)], word) {
			found = true
		}
	}
	return found && pollPath.MatchString(path)
}
