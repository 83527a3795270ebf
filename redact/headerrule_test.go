package redact

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// applyByName is HeaderRule.apply as first written, one walk over the header per name: the
// reference the single walk is held to.
func applyByName(h HeaderRule, hdr http.Header) {
	for _, name := range h.Headers {
		for key, vals := range hdr {
			if !strings.EqualFold(key, name) {
				continue
			}
			for i := range vals {
				vals[i] = h.Value
			}
		}
	}
}

func TestHeaderRuleApplyMatchesWalkPerName(t *testing.T) {
	headers := []func() http.Header{
		func() http.Header { return nil },
		func() http.Header { return http.Header{} },
		func() http.Header {
			return http.Header{"Cookie": {"a=1", "b=2"}, "set-cookie": {"c"}, "X-Ms-Client-Request-Id": {"id"}, "Authorization": {"t"}}
		},
		func() http.Header {
			return http.Header{"COOKIE": nil, "Cookie": {}, "cookie": {"x"}, "\u212aey": {"kelvin"}, "Key": {"k"}, "X-Other": {"o"}}
		},
	}
	rules := []HeaderRule{
		{Headers: nil, Value: "R"},
		{Headers: []string{"Cookie", "Set-Cookie"}, Value: "R"},
		{Headers: []string{"cookie", "COOKIE", "x-ms-client-request-id"}, Value: ""},
		{Headers: []string{"key", "x-other"}, Value: "00000000"},
	}
	for i, mk := range headers {
		for j, rule := range rules {
			got, want := mk(), mk()
			rule.apply(got)
			applyByName(rule, want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("header %d rule %d: %v, want %v", i, j, got, want)
			}
		}
	}
}
