package matcher

import (
	"net/http"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

func tpReq(method, url string, h http.Header, body string) *cassette.Request {
	if h == nil {
		h = http.Header{}
	}
	return &cassette.Request{Method: method, URL: url, Headers: h, Body: body}
}

// Each live request against one recording under one matcher: does test-proxy find it?
func TestRecordMatcherComparesAsTestProxy(t *testing.T) {
	const u = "https://Sanitized.azure.com/subscriptions/s/rg?api-version=1&b=2"
	js := func(extra ...string) http.Header {
		h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
		for i := 0; i+1 < len(extra); i += 2 {
			h.Add(extra[i], extra[i+1])
		}
		return h
	}
	def := DefaultRecordMatcher()
	bodiless := DefaultRecordMatcher()
	bodiless.CompareBodies = false
	bodiless.ExcludedHeaders = append(bodiless.ExcludedHeaders, "Content-Length")
	custom := DefaultRecordMatcher()
	custom.IgnoreQueryOrdering = true
	custom.IgnoredQueryParameters = []string{"b"}
	custom.ExcludedHeaders = append(custom.ExcludedHeaders, "X-Extra")
	headerless := DefaultRecordMatcher()
	headerless.IgnoreHeaders = true
	cases := []struct {
		name      string
		m         RecordMatcher
		live, rec *cassette.Request
		match     bool
	}{
		{"identical", def, tpReq("PUT", u, js(), `{"a":1}`), tpReq("PUT", u, js(), `{"a":1}`), true},
		{"JSON compared structurally", def, tpReq("PUT", u, js(), `{"b":[1,2],"a":1.0}`), tpReq("PUT", u, js(), "{\n \"a\": 1, \"b\": [1, 2]\n}"), true},
		{"a JSON value differs", def, tpReq("PUT", u, js(), `{"a":1}`), tpReq("PUT", u, js(), `{"a":2}`), false},
		{"ignored headers: values may differ", def, tpReq("GET", u, js("User-Agent", "x/2", "x-ms-client-request-id", "1"), ""), tpReq("GET", u, js("User-Agent", "x/1", "x-ms-client-request-id", "2"), ""), true},
		{"ignored headers: presence must agree", def, tpReq("GET", u, js("User-Agent", "x/2"), ""), tpReq("GET", u, js(), ""), false},
		{"any other header: a new one is a difference", def, tpReq("GET", u, js("Connection", "keep-alive"), ""), tpReq("GET", u, js(), ""), false},
		{"header names compare ignoring case", def, tpReq("GET", u, http.Header{"connection": {"keep-alive"}}, ""), tpReq("GET", u, http.Header{"Connection": {"keep-alive"}}, ""), true},
		{"excluded headers are not compared at all", def, tpReq("GET", u, js("traceparent", "00-a"), ""), tpReq("GET", u, js(), ""), true},
		{"Content-Type spacing is renormalized", def, tpReq("GET", u, http.Header{"Content-Type": {"application/json;charset=utf-8"}}, ""), tpReq("GET", u, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, ""), true},
		{"multipart boundaries are not compared", def, tpReq("POST", u, http.Header{"Content-Type": {"multipart/mixed; boundary=a1"}}, "--a1\r\nx\r\n--a1--"), tpReq("POST", u, http.Header{"Content-Type": {"multipart/mixed; boundary=b2"}}, "--b2\r\nx\r\n--b2--"), true},
		{"host compared ignoring case, default port dropped", def, tpReq("GET", "https://sanitized.azure.com:443/subscriptions/s/rg?api-version=1&b=2", nil, ""), tpReq("GET", u, nil, ""), true},
		{"query order matters by default", def, tpReq("GET", "https://Sanitized.azure.com/subscriptions/s/rg?b=2&api-version=1", nil, ""), tpReq("GET", u, nil, ""), false},
		{"query order ignored when asked", custom, tpReq("GET", "https://Sanitized.azure.com/subscriptions/s/rg?b=2&api-version=1", nil, ""), tpReq("GET", u, nil, ""), true},
		{"an ignored query parameter: any value", custom, tpReq("GET", "https://Sanitized.azure.com/subscriptions/s/rg?api-version=1&b=9", nil, ""), tpReq("GET", u, nil, ""), true},
		{"an ignored query parameter must still be present", custom, tpReq("GET", "https://Sanitized.azure.com/subscriptions/s/rg?api-version=1", nil, ""), tpReq("GET", u, nil, ""), false},
		{"the path is case-sensitive", def, tpReq("GET", strings.Replace(u, "/rg", "/RG", 1), nil, ""), tpReq("GET", u, nil, ""), false},
		{"the method", def, tpReq("POST", u, nil, ""), tpReq("GET", u, nil, ""), false},
		{"bodiless: bodies and Content-Length ignored", bodiless, tpReq("PUT", u, http.Header{"Content-Length": {"3"}}, `{"a":1}`), tpReq("PUT", u, nil, `{"a":2}`), true},
		{"headerless: headers ignored", headerless, tpReq("GET", u, js("X-New", "1"), ""), tpReq("GET", u, nil, ""), true},
		{"custom excluded header", custom, tpReq("GET", u, js("X-Extra", "1"), ""), tpReq("GET", u, js(), ""), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := c.m.key(c.live)
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.m.key(c.rec)
			if err != nil {
				t.Fatal(err)
			}
			if (a == b) != c.match {
				t.Errorf("matched %v, want %v\nlive: %q\nrec:  %q", a == b, c.match, a, b)
			}
			live, err := c.m.request(c.live)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := c.m.request(c.rec)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.m.score(live, rec) == 0; got != c.match {
				t.Errorf("report scores a match %v, the key says %v", got, c.match)
			}
		})
	}
}

// The index serves, per request, the first unused recording in order, leaves it for the next
// request when peeked, and answers a miss with test-proxy's report.
func TestIndexWithRecordMatcher(t *testing.T) {
	const u = "https://Sanitized.azure.com/x?api-version=1"
	rec := func(status int, body string) *cassette.Interaction {
		return &cassette.Interaction{Request: *tpReq("GET", u, http.Header{"Accept": {"application/json"}}, ""), Response: cassette.Response{Code: status, Body: body}}
	}
	other := &cassette.Interaction{Request: *tpReq("PUT", u, http.Header{"Content-Type": {"application/json"}}, `{"a":1,"b":[1]}`)}
	x, err := New([]*cassette.Interaction{rec(200, "first"), rec(200, "second"), other}, WithRecordMatcher(DefaultRecordMatcher()), WithRepeat(RepeatNone))
	if err != nil {
		t.Fatal(err)
	}
	live := tpReq("GET", u, http.Header{"Accept": {"application/json"}}, "")
	for _, want := range []struct {
		peek bool
		body string
	}{{true, "first"}, {false, "first"}, {false, "second"}} {
		var it *cassette.Interaction
		var miss *Miss
		if want.peek {
			it, miss = x.Peek(live)
		} else {
			it, miss = x.Next(live)
		}
		if it == nil || it.Response.Body != want.body {
			t.Fatalf("got %v (%v), want %q", it, miss, want.body)
		}
	}
	_, miss := x.Next(tpReq("PUT", u, http.Header{"Content-Type": {"application/json"}, "X-New": {"v"}}, `{"a":2,"c":3}`))
	if miss == nil {
		t.Fatal("a different request matched")
	}
	for _, want := range []string{
		"Unable to find a record for the request PUT " + u,
		"Header differences:\n    <X-New> is absent in record, value <v>\n",
		"Body differences:\nThere are differences between request and recordentry bodies:\n.a: 2 != 1\n.c: Missing in request JSON\n.b: Missing in record JSON\n",
		"Remaining Entries:\n0: " + u + "\n",
	} {
		if !strings.Contains(miss.Detail, want) {
			t.Errorf("report lacks %q:\n%s", want, miss.Detail)
		}
	}
	if st := x.Stats(); st.Replayed != 2 || st.Unused != 1 || st.Misses != 1 {
		t.Errorf("stats %+v, want 2 replayed, 1 unused, 1 miss", st)
	}
	_, miss = x.Next(live)
	if miss == nil || !strings.Contains(miss.Detail, "Method doesn't match, request <GET> record <PUT>") {
		t.Errorf("a used-up request: %v", miss)
	}
}
