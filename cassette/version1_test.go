package cassette_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
)

func TestLoadVersion1(t *testing.T) {
	c := cassettetest.MustLoad(t, "testdata/govcr_v2.yaml")
	if c.Version != cassette.Version {
		t.Errorf("Version = %d, want %d after loading a version 1 file", c.Version, cassette.Version)
	}
	want := []struct {
		method, url, reqBody string
		form                 url.Values
		reqHdr               http.Header
		code                 int
		status, body         string
		respHdr              http.Header
		duration             string
	}{
		{
			"GET", "https://acct.documents.azure.com:443/dbs/db1", "", url.Values{},
			http.Header{"Authorization": {"type=master&ver=1.0&sig=abc"}, "X-Ms-Date": {"Tue, 04 Mar 2025 10:00:00 GMT"}},
			200, "200 OK", `{"id":"db1","_rid":"AAAA=="}`,
			http.Header{"Content-Type": {"application/json"}}, "0s",
		},
		{
			"POST", "https://acct.documents.azure.com:443/dbs/db1/colls/c1/docs", `{"id":"doc1","value":"Zoë"}`, url.Values{"a": {"1", "2"}},
			http.Header{"Content-Type": {"application/json"}},
			201, "201 Created", "first line\nsecond line",
			http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, "1.5ms", // written as integer nanoseconds
		},
		{
			"DELETE", "https://acct.documents.azure.com:443/dbs/db1/colls/c1/docs/missing", "", url.Values{},
			http.Header{},
			404, "404 Not Found", cassettetest.ShortBinary,
			http.Header{}, "12.5ms",
		},
	}
	if len(c.Interactions) != len(want) {
		t.Fatalf("%d interactions, want %d", len(c.Interactions), len(want))
	}
	for i, w := range want {
		it := c.Interactions[i]
		if it.ID != i {
			t.Errorf("interaction %d: id %d, want %d", i, it.ID, i)
		}
		r, p := it.Request, it.Response
		if r.Method != w.method || r.URL != w.url || r.Body != w.reqBody {
			t.Errorf("interaction %d request = %s %s %q", i, r.Method, r.URL, r.Body)
		}
		if !reflect.DeepEqual(r.Form, w.form) {
			t.Errorf("interaction %d form = %#v, want %#v", i, r.Form, w.form)
		}
		if !reflect.DeepEqual(r.Headers, w.reqHdr) || !reflect.DeepEqual(p.Headers, w.respHdr) {
			t.Errorf("interaction %d headers = %v / %v", i, r.Headers, p.Headers)
		}
		if p.Code != w.code || p.Status != w.status || p.Body != w.body || p.Duration != w.duration {
			t.Errorf("interaction %d response = %d %q %q %q", i, p.Code, p.Status, p.Body, p.Duration)
		}
	}
}

func TestVersion1IDsAreRenumbered(t *testing.T) {
	// A version 1 file has no ids; any that appear are replaced by file order.
	data := "version: 1\ninteractions:\n" +
		"- id: 7\n  request: {url: 'https://h/a', method: GET, form: {}}\n  response: {code: 200, duration: 0s}\n" +
		"- request: {url: 'https://h/b', method: GET, form: {}}\n  response: {code: 200, duration: 0}\n" +
		"- id: 7\n  request: {url: 'https://h/c', method: GET}\n  response: {code: 200, duration: 5}\n"
	c, err := cassette.Parse("v1.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	var paths, durations []string
	for _, it := range c.Interactions {
		got = append(got, it.ID)
		paths = append(paths, it.Request.URL[len("https://h"):])
		durations = append(durations, it.Response.Duration)
	}
	if !reflect.DeepEqual(got, []int{0, 1, 2}) {
		t.Errorf("ids = %v, want [0 1 2]", got)
	}
	if strings.Join(paths, ",") != "/a,/b,/c" {
		t.Errorf("order = %v", paths)
	}
	if strings.Join(durations, ",") != "0s,0s,5ns" { // integer nanoseconds become Go durations go-vcr can read
		t.Errorf("durations = %q", durations)
	}

	// Version 2 keeps the ids it has.
	c, err = cassette.Parse("v2.yaml", []byte(strings.Replace(data, "version: 1", "version: 2", 1)))
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, it := range c.Interactions {
		got = append(got, it.ID)
	}
	if !reflect.DeepEqual(got, []int{7, 0, 7}) {
		t.Errorf("version 2 ids = %v, want [7 0 7] as written", got)
	}
}

func TestVersion1ValidationLines(t *testing.T) {
	data := "---\nversion: 1\ninteractions:\n- request:\n    url: https://h/\n    method: GET\n  response:\n    code: 200\n- request:\n    url: https://h/\n    method: \"\"\n  response:\n    code: 200\n"
	_, err := cassette.Parse("v1.yaml", []byte(data))
	if err == nil || !strings.HasPrefix(err.Error(), "v1.yaml:9: interaction 1: request has no method") {
		t.Errorf("error = %v, want v1.yaml:9: interaction 1: request has no method", err)
	}
}
