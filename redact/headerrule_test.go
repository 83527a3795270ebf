package redact

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
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

// keepAlways is Redactor.keep as first written, a map and a restore for every message: the
// reference the one that makes them only for kept headers is held to.
func keepAlways(r Redactor, h http.Header) func() {
	saved := http.Header{}
	for _, rule := range r {
		if k, ok := rule.(KeepHeaders); ok {
			for _, name := range k.Headers {
				if vals := headerGet(h, name); vals != nil {
					saved[http.CanonicalHeaderKey(name)] = append([]string(nil), vals...)
				}
			}
		}
	}
	return func() {
		for name, vals := range saved {
			headerDel(h, name)
			h[name] = vals
		}
	}
}

func TestKeepMatchesKeepAlways(t *testing.T) {
	rules := []Redactor{
		nil,
		{HeaderRule{Headers: []string{"Cookie"}, Value: "R"}},
		{KeepHeaders{Headers: []string{"cookie"}}, HeaderRule{Headers: []string{"Cookie", "X-Id"}, Value: "R"}},
		{KeepHeaders{Headers: []string{"X-Absent"}}, HeaderRule{Headers: []string{"Cookie"}, Value: "R"}},
	}
	headers := []func() http.Header{
		func() http.Header { return http.Header{} },
		func() http.Header { return http.Header{"Cookie": {"a", "b"}, "X-Id": {"1"}} },
		func() http.Header { return http.Header{"cookie": {"a"}, "X-Id": nil} },
	}
	for i, r := range rules {
		for j, mk := range headers {
			got, want := mk(), mk()
			restore := r.keep(got)
			r.apply(&got, nil, func(rule Rule) { rule.RedactRequest(&cassette.Request{Headers: got}) }, func(*walker) {})
			restore()
			restoreRef := keepAlways(r, want)
			r.apply(&want, nil, func(rule Rule) { rule.RedactRequest(&cassette.Request{Headers: want}) }, func(*walker) {})
			restoreRef()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("rules %d header %d: %v, want %v", i, j, got, want)
			}
		}
	}
}
