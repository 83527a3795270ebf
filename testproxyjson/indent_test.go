package testproxyjson

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// refIndented is what the writer did before appendIndentedJSON: json.Valid, the depth walk, then
// json.Indent of the trimmed text.
func refIndented(src, prefix string, maxDepth int) (string, bool) {
	if !json.Valid([]byte(src)) || jsonDepth(src) > maxDepth {
		return "", false
	}
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(strings.TrimSpace(src)), prefix, "  "); err != nil {
		return "", false
	}
	return b.String(), true
}

func checkIndented(t *testing.T, src, prefix string, maxDepth int) {
	t.Helper()
	want, wantOK := refIndented(src, prefix, maxDepth)
	got, ok := appendIndentedJSON([]byte("head"), src, prefix, maxDepth)
	if ok != wantOK || !strings.HasPrefix(string(got), "head") || string(got[4:]) != want {
		t.Fatalf("appendIndentedJSON(%q, %q, %d) = %q, %v; encoding/json gives %q, %v", src, prefix, maxDepth, got, ok, want, wantOK)
	}
}

var indentCases = []string{
	``, ` `, `{}`, `[]`, ` { } `, `[ ]`, `{"a":1}`, `{"a": [1, 2, {"b": null}], "c": {}}`, "\t{\r\n\"a\" :\n true }\n",
	`1`, `-0`, `-0.5e+10`, `1E9`, `0.0`, `01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`, `0x10`, `1 2`, `true`, `false`, `null`,
	`tru`, `nul`, `truex`, `"s"`, `"\u00e9\n\"\\\/\b\f\r\t"`, `"\u12"`, `"\x"`, "\"a\x01\"", `"unterminated`, `"é"`,
	`{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `{"a":1 "b":2}`, `{1:2}`, `[1}`, `{"a":1]`, `]`, `}`, `[`, `{`,
	`{"a":[[[]]]}`, `[[],[{}],{"x":[]}]`, `{"a":"}"}`, `{"a":"\"]"}`, `{} {}`, `{}x`, "{}\u00a0", "\f{}", `[1,2]  `,
	`{"id":"item","price":10.95,"_etag":"\"0000\"","nested":{"list":[1,2,3],"o":{"k":"v"}}}`,
	`{"a":-1.5E-3,"b":[true,false,null],"c":"x"}`, `123abc`, `[1 2]`, `{"a" 1}`, `{"a":1}}`, `[[]]]`,
}

func TestAppendIndentedJSON(t *testing.T) {
	for _, src := range indentCases {
		for _, prefix := range []string{"", "      "} {
			checkIndented(t, src, prefix, jsonDepthLimit-3)
			checkIndented(t, src, prefix, 1)
		}
	}
	for _, depth := range []int{1, 2, 60, 61, 62, 63, 64, 65, 200} {
		for _, open := range []string{"[", "{\"k\":"} {
			closer := "]"
			if open != "[" {
				closer = "}"
			}
			src := strings.Repeat(open, depth) + "1" + strings.Repeat(closer, depth)
			checkIndented(t, src, "  ", jsonDepthLimit-3)
			checkIndented(t, src, "", 64)
			checkIndented(t, src[:len(src)-1], "", 64) // unbalanced
			checkIndented(t, strings.Repeat(open, depth)+strings.Repeat(closer, depth), "", 64)
		}
	}
}

func FuzzIndentedJSON(f *testing.F) {
	for _, s := range indentCases {
		f.Add(s, uint8(61))
	}
	f.Add(strings.Repeat("[", 70)+strings.Repeat("]", 70), uint8(64))
	f.Fuzz(func(t *testing.T, src string, depth uint8) {
		checkIndented(t, src, "    ", int(depth%65))
	})
}
