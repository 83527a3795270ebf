package redact

import (
	"strings"
	"testing"
)

// Each path against one document: the string values it selects, in document order.
func TestJSONPathSelectsLikeSelectTokens(t *testing.T) {
	const doc = `{
	  "name": "top",
	  "id": "/subscriptions/x",
	  "properties": {"name": {"name": "nested"}, "key.with.dots": "dotted", "tags": {"name": "tag"}},
	  "value": [{"key": "k0", "name": "v0"}, {"key": "k1"}, {"key": "k2", "n": 5}],
	  "list": ["a", "b", "c", "d"],
	  "nothing": null
	}`
	cases := []struct {
		path string
		want string // selected scalar texts, joined with |
	}{
		{"$..name", `"top"|"nested"|"tag"|"v0"`},
		{"$.name", `"top"`},
		{"name", `"top"`},
		{"$.properties.tags.name", `"tag"`},
		{"$['properties']['key.with.dots']", `"dotted"`},
		{`$.properties["key.with.dots"]`, `"dotted"`},
		{"$..['name']", `"top"|"nested"|"tag"|"v0"`},
		{"$.value[*].key", `"k0"|"k1"|"k2"`},
		{"$.value[0,2].key", `"k0"|"k2"`},
		{"$.value[1:].key", `"k1"|"k2"`},
		{"$.list[0:4:2]", `"a"|"c"`},
		{"$.list[3]", `"d"`},
		{"$..n", `5`},
		{"$.value[*].*", `"k0"|"v0"|"k1"|"k2"|5`},
		{"$..nothing", `null`},
		{"$.value.key", ``}, // a name does not select array elements
		{"$.missing", ``},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			p, err := ParseJSONPath(c.path)
			if err != nil {
				t.Fatal(err)
			}
			leaves, ok := selectJSON([]byte(doc), p, false)
			if !ok {
				t.Fatal("document not read")
			}
			var got []string
			for _, l := range leaves {
				got = append(got, doc[l.start:l.end])
			}
			if strings.Join(got, "|") != c.want {
				t.Errorf("selected %q, want %q", strings.Join(got, "|"), c.want)
			}
		})
	}
}

func TestJSONPathRefusesWhatItCannotRead(t *testing.T) {
	for _, p := range []string{"", "$", "$.", "$[", "$['open", "$[?(@.a == 1)]", "$[-1]", "$[1:2:0]", "$[a]", "$..", "$x"} {
		if _, err := ParseJSONPath(p); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
}

func TestSelectJSONRejectsWhatIsNotOneValue(t *testing.T) {
	any, err := ParseJSONPath("$..*")
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{`{"a":1} {"b":2}`, `{"a":`, `not json`, `[1,2]]`} {
		if _, ok := selectJSON([]byte(body), any, false); ok {
			t.Errorf("%q read as one JSON value", body)
		}
	}
	if leaves, ok := selectJSON([]byte(` ["only"] `), any, false); !ok || len(leaves) != 1 || leaves[0].token != "only" {
		t.Errorf("a string in an array: %+v %v", leaves, ok)
	}
}
