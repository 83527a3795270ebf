package redact

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// Header rules in a set skip a header whose names cannot be theirs by nameBit: they edit as the
// rules one by one do, whatever the case of the names, with non-ASCII names that fold to theirs
// (the Kelvin sign folds to k), and after a removal changes the names.
func TestHeaderNameBitsAsOneByOne(t *testing.T) {
	specs := []Sanitizer{
		{Kind: "RecordedTestSanitizer", AuthHeader: true},
		{Parts: PartHeaders, Header: "Cookie", Regex: ".+", Value: "C"},
		{Parts: PartHeaders, Header: "x-ms-client-request-id", Regex: ".+", Value: "R"},
		{Parts: PartHeaders, Header: "api-key", Regex: "k", Value: "K"},
		{Remove: []string{" Message-Id "}},
		{Remove: []string{"cookie", "X-MS-CLIENT-REQUEST-ID"}},
		{Parts: PartHeaders, Header: "Cookie", Regex: ".+", Value: "again"},
		{Parts: PartHeaders, Header: "Message-Id", Regex: ".+", Value: "M"},
		{Remove: []string{"\u212aey"}},
		{Parts: PartHeaders, Header: "", Regex: ".+", Value: "all", FirstValue: true},
	}
	rules := compileRules(t, specs)
	set := NewSanitizerSet(rules)
	headers := []http.Header{
		{}, nil,
		{"Authorization": {"a"}, "authorization": {"b"}, "Cookie": {"c"}, "Message-Id": {"m"}},
		{"AUTHORIZATION": {"a"}, "COOKIE": {"c"}, "X-Ms-Client-Request-Id": {"r"}, "Api-Key": {"kk"}},
		{"Coo\u212aie": {"kelvin"}, "Api-\u212aey": {"k"}, "key": {"1"}, "Key": {"2"}},
		{"message-id": {"m", "n"}, "X-Other": {"o"}, "Content-Type": {"json"}},
		{"Authorizatio": {"x"}, "Cookies": {"x"}, "ApI-kEy": {"kkk"}, "\u212aEY": {"3"}},
	}
	for i, h := range headers {
		for j, h2 := range headers {
			mk := func() *cassette.Interaction {
				clone := func(h http.Header) http.Header {
					if h == nil {
						return nil
					}
					return h.Clone()
				}
				return &cassette.Interaction{Request: cassette.Request{Method: "GET", URL: "https://x/", Headers: clone(h)},
					Response: cassette.Response{Headers: clone(h2)}}
			}
			got, want := mk(), mk()
			o := SanitizeOptions{IsText: func(h http.Header) bool { return strings.Contains(h.Get("Content-Type"), "json") }}
			set.Sanitize(got, o)
			for _, r := range rules {
				r.Sanitize(want, o)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("headers %d, %d:\n got %+v\nwant %+v", i, j, got, want)
			}
		}
	}
}
