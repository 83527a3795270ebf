package testproxyjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/azvcr/azvcr/cassette"
)

// The fast tree builder is held to parseTree: what it reads, parseTree reads the same (every
// offset, key and string); what parseTree refuses, it leaves to parseTree.
func sameTree(t *testing.T, data []byte) bool {
	t.Helper()
	fast, ok := fastTree(data)
	slow, err := parseTree(data)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("the fast tree took a file parseTree refuses (%s at %d):\n%.2000s", err.msg, err.off, data)
	}
	pruneBodies(slow)
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("trees differ:\nfast  %s\nslow  %s\nfile:\n%.2000s", dump(fast), dump(slow), data)
	}
	return true
}

// pruneBodies drops what the fast tree does not build: the members of an entry's inline JSON
// body (it is read as its text; fastTree checks it all the same).
func pruneBodies(root *tpNode) {
	if root.kind != tpObject {
		return
	}
	for i, k := range root.keys {
		if k != "Entries" || root.elems[i].kind != tpArray {
			continue
		}
		for _, e := range root.elems[i].elems {
			if e.kind != tpObject {
				continue
			}
			for j, key := range e.keys {
				if b := e.elems[j]; (key == "RequestBody" || key == "ResponseBody") && b.kind == tpObject {
					b.keys, b.elems = nil, nil
				}
			}
		}
	}
}

func dump(n *tpNode) string {
	var b strings.Builder
	var walk func(n *tpNode)
	walk = func(n *tpNode) {
		fmt.Fprintf(&b, "%v[%d,%d]%q%q(", n.kind, n.start, n.end, n.str, n.keys)
		for _, e := range n.elems {
			walk(e)
		}
		b.WriteString(")")
	}
	walk(n)
	return b.String()
}

var treeVariants = []string{
	`{}`, `[]`, ` { } `, `[ ]`, `{"a":{}}`, `{"a":[],"b":[[],{}]}`, `1`, `-0.5e+10`, `"x"`, `true`, `null`, `false`,
	`{"Entries": [], "Variables": {"a": "\ud83d\ude80"}}`, "{\"a\": \"\xff\"}", `[1.e5]`, `{"a":"\ud800"}`, `{"a":"\ud800\u0041"}`,
	`{"a":"\udc00\ud800"}`, "\xef\xbb\xbf{\"Entries\": [{}]}", `{"Entries": [{"RequestUri": 5}]}`, `{"a":"\u00e9\n\t\/\\\"\b\f\r"}`,
	`{"a":"\'"}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":1,}`, `[1,]`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`,
	`{"Entries":[{"RequestBody":{"a":[1,{"b":"\u00e9"}],"c":null},"ResponseBody":{}}]}`, `{"Entries":[{"ResponseBody":{"a":"\ud800"}}]}`,
	`{"Entries":[{"ResponseBody":{"a":1,}}]}`, `{"Entries":[{"ResponseBody":{"a" 1}}]}`, `{"Entries":[{"ResponseBody":{"a":[1 2]}}]}`,
	`{"Entries":[{"ResponseBody":{"a":tru}}]}`, "{\"Entries\":[{\"ResponseBody\":{\"a\":\"\xff\"}}]}", `{"Entries":[{"RequestBody":[{"a":1}]}]}`,
	`{"Entries":[{"x":{"RequestBody":{"a":1}}}],"RequestBody":{"b":2}}`, `{"Entries":[{"ResponseBody":{"a":1},"ResponseBody":{"b":[]}}]}`,
	`{"a":tru}`, `{"a":truex}`, `{"a":1}x`, `{"a":1}}`, `[1 2]`, `{"a":"\uFFFD"}`, "{\"a\":\"\uFFFD\"}", `{"a":"b"`, `{"a":"b`,
	"{\n\t\"a\" :\r\n [ 1 , \"x\" , {\"b\":null} ]\n}\n", `{"a":1,"a":2}`, `{"":""}`, `[-1, 0, 1.5, 2E3, -0e-0]`, `{"a":"\u12"}`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
}

func TestFastTreeVariants(t *testing.T) {
	took := 0
	for _, s := range treeVariants {
		if sameTree(t, []byte(s)) {
			took++
		}
	}
	if took < 20 {
		t.Errorf("the fast tree took %d of %d variants", took, len(treeVariants))
	}
}

// Recordings as azvcr writes them, and the files in the repository.
func TestFastTreeRecordings(t *testing.T) {
	c := &cassette.Cassette{Version: cassette.Version, Variables: map[string]string{"k": "v\u00e9"}}
	bodies := []string{"", `{"id":"a","n":[1,2.5,{"x":null}]}`, "line one\nline two\r\n", "ünïcödé ✓ \"q\" \\", "\x00\x01binary\xff"}
	typeOf := func(body string, i int) string {
		if !utf8.ValidString(body) {
			return "application/octet-stream"
		}
		return []string{"application/json", "text/plain", "application/octet-stream"}[i%3]
	}
	for i := range 60 {
		req, resp := bodies[i%len(bodies)], bodies[(i+1)%len(bodies)]
		it := &cassette.Interaction{ID: i,
			Request: cassette.Request{Method: "POST", URL: fmt.Sprintf("https://a.documents.azure.com/dbs/d/colls/c/docs/%d", i), Body: req,
				Headers: http.Header{"Content-Type": {typeOf(req, i)}, "X-Ms-Date": {"now"}}},
			Response: cassette.Response{Code: 200, Body: resp, Headers: http.Header{"Content-Type": {typeOf(resp, i/3)}, "Etag": {`"00"`}}},
		}
		c.Interactions = append(c.Interactions, it)
	}
	data, err := Marshal(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sameTree(t, data) {
		t.Error("the fast tree did not take a recording azvcr wrote")
	}
	paths, _ := filepath.Glob("testdata/*.json")
	more, _ := filepath.Glob("../fixtures/*/*.json")
	for _, p := range append(paths, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: fast tree took it: %v", p, sameTree(t, data))
	}
}

func FuzzFastTree(f *testing.F) {
	for _, s := range treeVariants {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameTree(t, data)
		if root, err := parseTree(data); err == nil && root.kind != tpString { // and its compacting
			text := data[root.start:root.end]
			got, ok := compactInline(text)
			if want, wantOK := tpCompactJSON(string(text)); got != want || ok != wantOK {
				t.Fatalf("compactInline(%.60q) = %.60q, %v; tpCompactJSON: %.60q, %v", text, got, ok, want, wantOK)
			}
		}
	})
}

// tpCompactJSON is json.Valid then json.Compact, without checking the text twice.
func TestCompactJSONAsValidThenCompact(t *testing.T) {
	for _, s := range append(treeVariants, "", " ", " {} ", `{"a": [1, 2]}`, "{\"a\":\n \"x y\" }\n", `{"a":1}{}`, "\"\xff\"",
		strings.Repeat("[", 65)+strings.Repeat("]", 65), strings.Repeat("[", 64)+strings.Repeat("]", 64)) {
		want, wantOK := s, false
		if utf8.ValidString(s) && json.Valid([]byte(s)) && jsonDepth(s) <= jsonDepthLimit {
			var b bytes.Buffer
			json.Compact(&b, []byte(s))
			want, wantOK = b.String(), true
		}
		if got, ok := tpCompactJSON(s); got != want || ok != wantOK {
			t.Errorf("tpCompactJSON(%.40q) = %.40q, %v; want %.40q, %v", s, got, ok, want, wantOK)
		}
	}
}

// compactInline is tpCompactJSON for any value of a file read as JSON: every value of every
// variant and recording here, deep ones included.
func TestCompactInlineAsCompactJSON(t *testing.T) {
	inputs := append([]string{strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70), "{ \"a\" : [ 1 ,\n\t2 ] , \"b\\\"\" : \" x \\\\ \" }"}, treeVariants...)
	c := &cassette.Cassette{Version: cassette.Version}
	for i, b := range []string{`{"a": [1, {"b": " spaced \" quote "}], "c": true}`, `[1, 2]`, `12.5`, `{"deep": ` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`} {
		c.Interactions = append(c.Interactions, &cassette.Interaction{ID: i, Request: cassette.Request{Method: "POST", URL: "https://h/", Body: b,
			Headers: http.Header{"Content-Type": {"application/json"}}}, Response: cassette.Response{Code: 200}})
	}
	data, err := Marshal(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	inputs = append(inputs, string(data))
	checked := 0
	for _, s := range inputs {
		root, err := parseTree([]byte(s))
		if err != nil {
			continue
		}
		var walk func(n *tpNode)
		walk = func(n *tpNode) {
			if n.kind != tpString {
				text := []byte(s)[n.start:n.end]
				got, ok := compactInline(text)
				want, wantOK := tpCompactJSON(string(text))
				if got != want || ok != wantOK {
					t.Errorf("compactInline(%.60q) = %.60q, %v; tpCompactJSON: %.60q, %v", text, got, ok, want, wantOK)
				}
				checked++
			}
			for _, e := range n.elems {
				walk(e)
			}
		}
		walk(root)
	}
	if checked < 100 {
		t.Errorf("checked %d values", checked)
	}
}

// TestFastTreeSkipsBodies: an entry's inline JSON body is checked but not built, anything else
// in the same shape is built, and a body fastTree cannot take is left to parseTree.
func TestFastTreeSkipsBodies(t *testing.T) {
	doc := `{"Entries":[{"RequestBody":{"a":[1,{"b":"\u00e9"}]},"ResponseBody":{"c":{}},"Other":{"d":1}}],"Variables":{"e":"f"}}`
	root, ok := fastTree([]byte(doc))
	if !ok {
		t.Fatal("the fast tree refused a well-formed recording")
	}
	entry := root.field("Entries").elems[0]
	for _, key := range []string{"RequestBody", "ResponseBody"} {
		b := entry.field(key)
		if b.kind != tpObject || b.elems != nil || b.keys != nil {
			t.Errorf("%s was built: %s", key, dump(b))
		}
		if text := doc[b.start:b.end]; !json.Valid([]byte(text)) || text[0] != '{' {
			t.Errorf("%s spans %q", key, text)
		}
	}
	if o := entry.field("Other"); len(o.elems) != 1 || root.field("Variables").field("e").str != "f" {
		t.Errorf("values outside bodies were not built: %s", dump(root))
	}
	// The depth limit counts the values around a body, as parseTree's does (kept out of the fuzz
	// seeds: large seeds slow the fuzzer's minimising past its time).
	for _, depth := range []int{9996, 9997} {
		sameTree(t, []byte(`{"Entries":[{"ResponseBody":`+strings.Repeat(`{"a":`, depth)+"1"+strings.Repeat("}", depth)+`}]}`))
	}
	for _, bad := range []string{`{"a":1,}`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":01}`, `{"a" 1}`, `{"a":[1}`, `{"a":1`} {
		if _, ok := fastTree([]byte(`{"Entries":[{"ResponseBody":` + bad + `}]}`)); ok {
			t.Errorf("the fast tree took the body %q", bad)
		}
	}
}
