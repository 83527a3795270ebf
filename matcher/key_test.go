package matcher

import (
	"net/http"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

const acct = "https://acct.documents.azure.com"

// req builds a recorded-style request; headers are given as name, value pairs.
func req(method, url, body string, headers ...string) *cassette.Request {
	r := &cassette.Request{Method: method, URL: url, Body: body, Headers: http.Header{}}
	for i := 0; i+1 < len(headers); i += 2 {
		// Set the map directly so the test controls the exact spelling of the name.
		r.Headers[headers[i]] = append(r.Headers[headers[i]], headers[i+1])
	}
	return r
}

func mustKey(t *testing.T, r *cassette.Request) string {
	t.Helper()
	k, err := Key(r)
	if err != nil {
		t.Fatalf("Key(%s %s): %v", r.Method, r.URL, err)
	}
	return k
}

func TestKeyEquality(t *testing.T) {
	type row struct {
		name string
		a, b *cassette.Request
		same bool
	}
	rows := []row{
		// Host and port.
		{"host case ignored", req("GET", "https://ACCT.Documents.Azure.COM/dbs", ""), req("GET", acct+"/dbs", ""), true},
		{"default https port ignored", req("GET", "https://acct.documents.azure.com:443/dbs", ""), req("GET", acct+"/dbs", ""), true},
		{"default http port ignored", req("GET", "http://localhost:80/dbs", ""), req("GET", "http://localhost/dbs", ""), true},
		{"port 80 on https is not default", req("GET", "https://acct.documents.azure.com:80/dbs", ""), req("GET", acct+"/dbs", ""), false},
		{"port 443 on http is not default", req("GET", "http://localhost:443/dbs", ""), req("GET", "http://localhost/dbs", ""), false},
		{"emulator port matters", req("GET", "https://localhost:8081/dbs", ""), req("GET", "https://localhost:8082/dbs", ""), false},
		{"scheme matters", req("GET", "http://acct.documents.azure.com/dbs", ""), req("GET", acct+"/dbs", ""), false},
		{"different host", req("GET", "https://other.documents.azure.com/dbs", ""), req("GET", acct+"/dbs", ""), false},
		{"ipv6 loopback with default port", req("GET", "https://[::1]:443/dbs", ""), req("GET", "https://[::1]/dbs", ""), true},

		// Method and path.
		{"method case ignored", req("get", acct+"/dbs", ""), req("GET", acct+"/dbs", ""), true},
		{"different method", req("POST", acct+"/dbs", ""), req("GET", acct+"/dbs", ""), false},
		{"different path", req("GET", acct+"/dbs/a", ""), req("GET", acct+"/dbs/b", ""), false},
		{"trailing slash matters", req("GET", acct+"/dbs/", ""), req("GET", acct+"/dbs", ""), false},
		{"empty path is root", req("GET", acct, ""), req("GET", acct+"/", ""), true},

		// Query.
		{"query order ignored", req("GET", acct+"/dbs?a=1&b=2&c=3", ""), req("GET", acct+"/dbs?c=3&a=1&b=2", ""), true},
		{"query value matters", req("GET", acct+"/dbs?a=1&b=2", ""), req("GET", acct+"/dbs?a=1&b=3", ""), false},
		{"query parameter missing", req("GET", acct+"/dbs?a=1", ""), req("GET", acct+"/dbs?a=1&b=2", ""), false},
		{"query vs none", req("GET", acct+"/dbs?a=1", ""), req("GET", acct+"/dbs", ""), false},
		{"query escaping normalised", req("GET", acct+"/dbs?q=a%20b", ""), req("GET", acct+"/dbs?q=a+b", ""), true},

		// JSON bodies.
		{"json key order and whitespace ignored",
			req("POST", acct+"/docs", `{"id":"x","pk":"p","n":{"b":2,"a":1}}`),
			req("POST", acct+"/docs", "{\n  \"n\": { \"a\": 1, \"b\": 2 },\n  \"pk\" : \"p\",\n  \"id\": \"x\"\n}\n"), true},
		{"json number 1 vs 1.0", req("POST", acct+"/docs", `{"n":1}`), req("POST", acct+"/docs", `{"n":1.0}`), true},
		{"json number 100 vs 1e2", req("POST", acct+"/docs", `{"n":100}`), req("POST", acct+"/docs", `{"n":1e2}`), true},
		{"json different number", req("POST", acct+"/docs", `{"n":1}`), req("POST", acct+"/docs", `{"n":1.5}`), false},
		{"json different string", req("POST", acct+"/docs", `{"id":"x"}`), req("POST", acct+"/docs", `{"id":"y"}`), false},
		{"json string vs number", req("POST", acct+"/docs", `{"n":"1"}`), req("POST", acct+"/docs", `{"n":1}`), false},
		{"json array order matters", req("POST", acct+"/docs", `[1,2]`), req("POST", acct+"/docs", `[2,1]`), false},
		{"json extra key", req("POST", acct+"/docs", `{"a":1}`), req("POST", acct+"/docs", `{"a":1,"b":null}`), false},
		{"json query parameters",
			req("POST", acct+"/docs", `{"query":"SELECT * FROM c WHERE c.id = @id","parameters":[{"name":"@id","value":"a"}]}`),
			req("POST", acct+"/docs", `{"parameters":[{"value":"a","name":"@id"}],"query":"SELECT * FROM c WHERE c.id = @id"}`), true},
		{"whitespace-only body equals empty body", req("POST", acct+"/docs", " \n\t"), req("POST", acct+"/docs", ""), true},
		{"empty body vs json", req("POST", acct+"/docs", ""), req("POST", acct+"/docs", `{}`), false},

		// Non-JSON bodies are compared byte for byte.
		{"non-json identical", req("POST", acct+"/x", "a=1&b=2"), req("POST", acct+"/x", "a=1&b=2"), true},
		{"non-json reordered", req("POST", acct+"/x", "a=1&b=2"), req("POST", acct+"/x", "b=2&a=1"), false},
		{"non-json trailing space", req("POST", acct+"/x", "abc"), req("POST", acct+"/x", "abc "), false},
		{"two json values are not json", req("POST", acct+"/x", `{"a":1} {"b":2}`), req("POST", acct+"/x", `{"a":1}{"b":2}`), false},

		// Headers.
		{"header name case in the map ignored",
			req("GET", acct+"/docs", "", "x-ms-continuation", "tok"),
			req("GET", acct+"/docs", "", "X-Ms-Continuation", "tok"), true},
		{"header name odd case ignored",
			req("GET", acct+"/docs", "", "X-MS-DOCUMENTDB-PARTITIONKEY", `["p"]`),
			req("GET", acct+"/docs", "", "X-Ms-Documentdb-Partitionkey", `["p"]`), true},
		{"significant header value matters",
			req("GET", acct+"/docs", "", "X-Ms-Continuation", "tok1"),
			req("GET", acct+"/docs", "", "X-Ms-Continuation", "tok2"), false},
		{"partition key value matters",
			req("GET", acct+"/docs/a", "", "X-Ms-Documentdb-Partitionkey", `["p1"]`),
			req("GET", acct+"/docs/a", "", "X-Ms-Documentdb-Partitionkey", `["p2"]`), false},
		{"volatile headers ignored",
			req("GET", acct+"/docs", "",
				"Authorization", "type%3Dmaster%26sig%3Daaa",
				"X-Ms-Date", "Mon, 02 Jan 2006 15:04:05 GMT",
				"X-Ms-Activity-Id", "11111111-1111-1111-1111-111111111111",
				"User-Agent", "azsdk-go-azcosmos/v1.0",
				"X-Ms-Version", "2020-07-15"),
			req("GET", acct+"/docs", "",
				"Authorization", "type%3Dmaster%26sig%3Dbbb",
				"X-Ms-Date", "Tue, 03 Jan 2006 15:04:05 GMT",
				"X-Ms-Activity-Id", "22222222-2222-2222-2222-222222222222",
				"User-Agent", "curl/8"), true},
	}
	// The headers that decide a Cosmos DB answer, named here so the list cannot silently shrink.
	for _, h := range []string{"X-Ms-Continuation", "X-Ms-Documentdb-Partitionkey", "If-None-Match", "A-Im", "X-Ms-Max-Item-Count",
		"X-Ms-Documentdb-Partitionkeyrangeid", "X-Ms-Documentdb-Isquery", "X-Ms-Cosmos-Is-Query-Plan-Request", "Prefer"} {
		rows = append(rows, row{"header " + h + " value changes the key",
			req("GET", acct+"/docs", "", h, "one"), req("GET", acct+"/docs", "", h, "two"), false})
		rows = append(rows, row{"header " + h + " name case does not",
			req("GET", acct+"/docs", "", strings.ToUpper(h), "one"), req("GET", acct+"/docs", "", h, "one"), true})
	}
	// Each significant header, present on one side only, changes the key.
	for _, h := range SignificantHeaders {
		rows = append(rows, row{"significant " + h + " present vs absent",
			req("GET", acct+"/docs", "", h, "v"), req("GET", acct+"/docs", ""), false})
		rows = append(rows, row{"significant " + h + " lower-case name",
			req("GET", acct+"/docs", "", strings.ToLower(h), "v"), req("GET", acct+"/docs", "", h, "v"), true})
	}
	// Each volatile header alone does not change the key.
	for _, h := range []string{"Authorization", "X-Ms-Date", "X-Ms-Activity-Id", "User-Agent", "Date", "X-Ms-Session-Token", "Content-Length", "Accept-Encoding"} {
		rows = append(rows, row{"volatile " + h + " ignored",
			req("GET", acct+"/docs", "", h, "one"), req("GET", acct+"/docs", ""), true})
	}
	if len(rows) < 15 {
		t.Fatalf("table too small: %d rows", len(rows))
	}

	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			ka, kb := mustKey(t, tc.a), mustKey(t, tc.b)
			if got := ka == kb; got != tc.same {
				t.Errorf("same = %v, want %v\n a: %q\n b: %q", got, tc.same, ka, kb)
			}
			// The index must agree with the key: b's recording answers a exactly when keys match.
			x, err := New([]*cassette.Interaction{{ID: 1, Request: *tc.b, Response: cassette.Response{Code: 200}}})
			if err != nil {
				t.Fatal(err)
			}
			it, miss := x.Next(tc.a)
			if tc.same && it == nil {
				t.Errorf("equal keys but Next missed: %v", miss)
			}
			if !tc.same && it != nil {
				t.Errorf("different keys but Next answered with #%d", it.ID)
			}
			if !tc.same && (miss == nil || len(miss.Differences) == 0) {
				t.Errorf("a miss on a different request should list differences, got %+v", miss)
			}
		})
	}
}

func TestKeyIsDeterministic(t *testing.T) {
	r := req("POST", acct+"/dbs/d/colls/c/docs?b=2&a=1", `{"z":1,"a":[1,2,{"y":true,"x":null}]}`,
		"X-Ms-Documentdb-Partitionkey", `["p"]`, "X-Ms-Documentdb-Isquery", "True", "Prefer", "return=minimal")
	first := mustKey(t, r)
	for i := 0; i < 50; i++ { // map iteration order must not leak into the key
		if k := mustKey(t, r); k != first {
			t.Fatalf("key changed between calls:\n%q\n%q", first, k)
		}
	}
	if !strings.HasPrefix(first, "POST https://acct.documents.azure.com/dbs/d/colls/c/docs?a=1&b=2") {
		t.Errorf("key %q does not start with the canonical request line", first)
	}
}

func TestKeyBadURL(t *testing.T) {
	if _, err := Key(req("GET", "http://[::1", "")); err == nil {
		t.Fatal("Key accepted an unparsable URL")
	}
	_, err := New([]*cassette.Interaction{{ID: 4, Request: *req("GET", "http://%zz", "")}})
	if err == nil {
		t.Fatal("New accepted an interaction with an unparsable URL")
	}
	x, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	it, miss := x.Next(req("GET", "http://[::1", ""))
	if it != nil || miss == nil || !strings.Contains(miss.Reason, "request url") {
		t.Fatalf("Next on a bad URL = %v, %+v; want a miss naming the url", it, miss)
	}
	if got := x.Stats().Misses; got != 1 {
		t.Errorf("misses = %d, want 1", got)
	}
}

func TestCanonicalNumber(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"1", "1.0"}, {"1", "1e0"}, {"1", "1.000"}, {"0.5", "5e-1"}, {"-2", "-2.0"}, {"1E2", "100"},
		{"12345678901234567890", "1.2345678901234567890e19"},
	} {
		if ca, cb := canonicalBody(tc.a), canonicalBody(tc.b); ca != cb {
			t.Errorf("%s and %s canonicalise to %q and %q", tc.a, tc.b, ca, cb)
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"1", "2"}, {"0.1", "0.2"}, {"12345678901234567890", "12345678901234567891"}, {"1", "-1"},
	} {
		if ca, cb := canonicalBody(tc.a), canonicalBody(tc.b); ca == cb {
			t.Errorf("%s and %s both canonicalise to %q", tc.a, tc.b, ca)
		}
	}
}
