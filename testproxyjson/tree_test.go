package testproxyjson_test

// Tests of how a recording's JSON text is read (tree.go): exact lines and messages of syntax
// errors, strictness beyond encoding/json's, offsets of inline bodies, and bounded work on
// hostile input.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/testproxyjson"
)

func TestTestProxySyntaxErrors(t *testing.T) {
	cases := []struct {
		name, data string
		line       int
		msg        string // the whole message after "invalid JSON: "
	}{
		// On the last line, with and without a final newline: the line where the text goes wrong.
		{"extra brace on the last line", "{\n  \"Entries\": []\n}}", 3, "unexpected character '}' after the top-level value"},
		{"extra brace after a final newline", "{\n  \"Entries\": []\n}\n}\n", 4, "unexpected character '}' after the top-level value"},
		{"end of file on the last line", "{\n  \"Entries\": [1,", 2, "unexpected end of file, want a value"},
		{"end of file after a final newline", "{\n  \"Entries\": [1,\n", 3, "unexpected end of file, want a value"},
		{"end of file in a number", "{\n  \"Variables\": {\"a\": -", 2, "unexpected end of file in a number, want a digit"},
		{"end of file in a literal", "{\n  \"Variables\": {\"a\": tr", 2, "unexpected character 't', want a value"},
		{"end of file in a string", "{\n  \"Variables\": {\"a\": \"x", 2, "unexpected end of file in a string"},
		{"end of file after a backslash", "{\n  \"Variables\": {\"a\": \"x\\", 2, "unexpected end of file in a string escape"},
		{"end of file after an escaped backslash", "{\n  \"Variables\": {\"a\": \"x\\\\", 2, "unexpected end of file in a string"},
		{"end of file in a \\u escape", "{\n  \"Variables\": {\"a\": \"x\\u12", 2, `invalid \u escape in a string, want four hex digits`},
		// Where in the grammar it fails, and what was expected there.
		{"trailing comma in an array", "{\n  \"Entries\": [\n    1,\n  ]\n}", 4, "unexpected character ']', want a value"},
		{"missing colon", "{\n  \"Entries\"\n  []\n}", 3, `unexpected character '[' after member name "Entries", want ':'`},
		{"missing comma in an array", "[\n  1\n  2\n]", 3, "unexpected character '2' in an array, want ',' or ']'"},
		{"number as a member name", "{\n  1: 2\n}", 2, "unexpected character '1', want a member name in quotes"},
		{"closing the wrong bracket", "{\n  \"Entries\": [\n  }\n}", 3, "unexpected character '}', want a value"},
		{"single quotes", "{\n  'Entries': []\n}", 2, "unexpected character '\\'', want a member name in quotes"},
		{"bare word", "{\n  \"a\": yes\n}", 2, "unexpected character 'y', want a value"},
		{"literal with a tail", "{\n  \"a\": truex\n}", 2, "unexpected character 'x' in an object, want ',' or '}'"},
		{"leading zero", "[\n  007\n]", 2, "unexpected character '0' in an array, want ',' or ']'"},
		{"no digit after the point", "[\n  1.\n]", 2, "unexpected character '\\n' after a decimal point, want a digit"},
		{"no digit in the exponent", "[\n  1e+]", 2, "unexpected character ']' in an exponent, want a digit"},
		{"minus without digits", "[\n  -.5]", 2, "unexpected character '.' in a number, want a digit"},
		{"CRLF line ends", "{\r\n  \"a\": 1,\r\n  \"b\": ?\r\n}", 3, "unexpected character '?', want a value"},
		{"byte order mark, then an error", "\xef\xbb\xbf\n{\n]", 3, "unexpected character ']', want a member name in quotes"},
		{"only a byte order mark", "\xef\xbb\xbf", 1, "unexpected end of file, want a value"},
		{"byte order mark twice", "\xef\xbb\xbf\xef\xbb\xbf{}", 1, "unexpected character '\\ufeff', want a value"},
		{"invalid UTF-8 outside strings", "{\n  \xff: 1}", 2, "unexpected character '\ufffd', want a member name in quotes"},
		// Strings: what encoding/json would let through, and which problem comes first.
		{"invalid UTF-8 in a member name", "{\n  \"\xc3\": 1}", 2, "invalid UTF-8 in a string"},
		{"lone surrogate in a member name", "{\n  \"\\uDC00\": 1}", 2, `lone surrogate \uDC00 in a string`},
		{"high surrogate then another escape", "[\"ok\",\n \"\\uD83D\\n\"]", 2, `lone surrogate \uD83D in a string`},
		{"high surrogate then a high surrogate", "[\n \"\\uD83D\\uD83D\"]", 2, `lone surrogate \uD83D in a string`},
		{"high surrogate at the end of the file", "[\n \"\\uD83D", 2, `lone surrogate \uD83D in a string`},
		{"truncated UTF-8 before a newline", "[\n \"\xe2\x82\n\"]", 2, "invalid UTF-8 in a string"},
		{"invalid UTF-8 before a bad escape", "[\n \"\xff\\x\"]", 2, "invalid UTF-8 in a string"},
		{"lone surrogate before a control character", "[\n \"\\uDFFF\t\"]", 2, `lone surrogate \uDFFF in a string`},
		{"bad escape", "[\n \"a\\x\"]", 2, `invalid escape \x in a string`},
		{"escaped newline", "[\n \"a\\\n\"]", 2, "invalid escape \\\n in a string"},
		{"control character after an escaped backslash", "[\n \"a\\\\\x01\"]", 2, `control character '\x01' in a string (write it escaped)`},
		{"bad \\u escape", "[\n \"\\u12G4\"]", 2, `invalid \u escape in a string, want four hex digits`},
		{"tab in a string", "[\n \"a\tb\"]", 2, `control character '\t' in a string (write it escaped)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := testproxyjson.Parse("rec.json", []byte(tc.data))
			var ce *cassette.Error
			if !errors.As(err, &ce) || ce.File != "rec.json" || ce.Line != tc.line || ce.Msg != "invalid JSON: "+tc.msg {
				t.Errorf("got %v\nwant rec.json:%d: invalid JSON: %s\ninput: %q", err, tc.line, tc.msg, tc.data)
			}
		})
	}
}

func TestTestProxyStringsAccepted(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"U+FFFD written out", "\"a\xef\xbf\xbdb\"", "a\ufffdb"},
		{"U+FFFD escaped", `"a\uFFFDb"`, "a\ufffdb"},
		{"U+FFFD next to a surrogate pair", `"\ufffd\ud83d\ude80"`, "\ufffd🚀"},
		{"escapes", `"\"\\\/\b\f\n\r\t\u0000"`, "\"\\/\b\f\n\r\t\x00"},
		{"byte order mark inside a string", "\"\xef\xbb\xbf\"", "\ufeff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := "\xef\xbb\xbf{\"Variables\": {" + tc.text + ": " + tc.text + "}}"
			_, vars, err := testproxyjson.Parse("v.json", []byte(data))
			if err != nil || !reflect.DeepEqual(vars, map[string]string{tc.want: tc.want}) {
				t.Errorf("variables %q, %v; want %q", vars, err, tc.want)
			}
		})
	}
}

func TestTestProxyDuplicateMembers(t *testing.T) {
	entry := `{"RequestUri": "https://h.example/%s", "RequestMethod": "GET", "StatusCode": 500, "StatusCode": %d}`
	data := `{"Entries": [` + fmt.Sprintf(entry, "first", 200) + `], "Variables": {"a": "1"},
		"Entries": [` + fmt.Sprintf(entry, "second", 204) + `], "Variables": {"b": "2"}}`
	c, vars, err := testproxyjson.Parse("dup.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != 1 || c.Interactions[0].Request.URL != "https://h.example/second" || c.Interactions[0].Response.Code != 204 {
		t.Errorf("the last of duplicate members should win: %+v", c.Interactions[0])
	}
	if !reflect.DeepEqual(vars, map[string]string{"b": "2"}) {
		t.Errorf("variables %v", vars)
	}
}

// TestTestProxyInlineBodyText: an inline body is its text exactly as it stands in the file,
// wherever the separators and white space around it are.
func TestTestProxyInlineBodyText(t *testing.T) {
	for _, tc := range []struct{ name, ct, sep, body, want string }{
		{"colon on its own line", "text/plain", "\n   :\n\t ", "{ \"a\" :\n 1 }", "{ \"a\" :\n 1 }"},
		{"no white space", "text/plain", ":", `{"a":[1,{"b":null}]}`, `{"a":[1,{"b":null}]}`},
		{"escapes kept", "text/plain", ": ", `{"\u00e9": "\/"}`, `{"\u00e9": "\/"}`},
		{"number", "text/plain", " :\r\n", `-0.5E+7`, `-0.5E+7`},
		{"compacted under a JSON type", "application/json", "\n:\n", "{ \"a\" :\n [ 1 , 2 ] }", `{"a":[1,2]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := "{\"Entries\":[{\"RequestUri\":\"https://h.example/\",\"RequestMethod\":\"GET\",\"StatusCode\":200,\n" +
				"\"ResponseHeaders\":{\"Content-Type\":\"" + tc.ct + "\"},\n\"ResponseBody\"" + tc.sep + tc.body + "\n,\"X\":1}]}"
			c, _, err := testproxyjson.Parse("body.json", []byte(data))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Interactions[0].Response.Body; got != tc.want {
				t.Errorf("body %q, want %q", got, tc.want)
			}
		})
	}
}

// TestTestProxyDeepNesting: nesting is capped at 10000 levels (arrays and objects alike, the top
// level included), without recursion, so 100000 levels fail fast at the 10001st.
func TestTestProxyDeepNesting(t *testing.T) {
	vars := func(arrays int) string { // Variables' value nested 2+arrays levels deep
		return "{\"Variables\": {\"a\":\n" + strings.Repeat("[\n", arrays) + strings.Repeat("]", arrays) + "}}"
	}
	for _, tc := range []struct {
		name, data string
		line       int
		msg        string
	}{
		{"100000 arrays", strings.Repeat("[\n", 100000), 10001, "invalid JSON: nested too deeply"},
		{"100000 objects", strings.Repeat("{\"a\":\n", 100000), 10001, "invalid JSON: nested too deeply"},
		{"100000 arrays on one line", strings.Repeat("[", 100000) + strings.Repeat("]", 100000), 1, "invalid JSON: nested too deeply"},
		{"10000 levels are read", vars(9998), 2, `variable "a" must be a string (or another JSON scalar), got an array`},
		{"10001 levels are not", vars(9999), 10000, "invalid JSON: nested too deeply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := testproxyjson.Parse("deep.json", []byte(tc.data))
			var ce *cassette.Error
			if !errors.As(err, &ce) || ce.Line != tc.line || ce.Msg != tc.msg {
				t.Errorf("got %v, want line %d: %s", err, tc.line, tc.msg)
			}
		})
	}
}

// bigRecording is a recording of about size bytes: entries with headers, an inline JSON body,
// a text body in lines and a base64 body, and one large base64 body in the middle.
func bigRecording(size int) []byte {
	var b bytes.Buffer
	b.WriteString("{\n  \"Entries\": [\n")
	blob := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff, 0x00, 0x80}, size/10))
	for i := 0; b.Len() < size; i++ {
		body := `"` + blob[:600] + `"`
		if i == 10 {
			body = `"` + blob + `"`
		}
		fmt.Fprintf(&b, `    {
      "RequestUri": "https://acct.documents.azure.com/dbs/db%d/colls/c/docs",
      "RequestMethod": "POST",
      "RequestHeaders": {"Content-Type": "application/json", "x-ms-documentdb-partitionkey": ["[\"pk%d\"]"]},
      "RequestBody": {"id": "doc%d", "pk": "pk%d", "n": [1, 2.50, -3e2], "s": "Zo\u00eb \ud83d\ude80 \"q\""},
      "StatusCode": 201,
      "ResponseHeaders": {"Content-Type": "application/octet-stream", "etag": "\"%d\""},
      "ResponseBody": %s
    },
    {
      "RequestUri": "https://h.example/t%d", "RequestMethod": "GET", "StatusCode": 200,
      "ResponseHeaders": {"Content-Type": "text/plain"},
      "ResponseBody": ["line one\r\n", "line two\n", "last"]
    },
`, i, i, i, i, i, body, i)
	}
	b.WriteString("    {\"RequestUri\": \"https://h.example/\", \"RequestMethod\": \"GET\", \"StatusCode\": 204}\n  ],\n")
	b.WriteString("  \"Variables\": {\"randSeed\": \"1\"}\n}\n")
	return b.Bytes()
}

// BenchmarkParse reads recordings of 2 MB and 20 MB: the same MB/s at both sizes means time
// linear in the size.
func BenchmarkParse(b *testing.B) {
	for _, size := range []int{2 << 20, 20 << 20} {
		data := bigRecording(size)
		b.Run(fmt.Sprintf("MB=%d", size>>20), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, _, err := testproxyjson.Parse("big.json", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzParse: no input panics; every error names a line of the file; whatever is read without a
// syntax error is JSON that encoding/json accepts, in UTF-8.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"Entries": [], "Variables": {"a": "\ud83d\ude80"}}`, "{\"a\": \"\xff\"}", `[1.e5]`, `{"a":"\ud800"}`,
		string(bigRecording(4000)), "\xef\xbb\xbf{\"Entries\": [{}]}", `{"Entries": [{"RequestUri": 5}]}`,
		// Hostile: numbers far beyond float64, nesting at and past the cap, a truncated file.
		`{"Entries": [{"RequestUri": "https://h/", "RequestMethod": "POST", "StatusCode": 200, "RequestHeaders": {"Content-Type": "application/json"}, "RequestBody": {"n": 1e6666666, "m": 1e21, "k": -0}}]}`,
		`{"Variables": {"a": 1e20000000, "b": 1000000000000000000000}}`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
		string(bigRecording(4000))[:3000],
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, err := testproxyjson.Parse("f.json", data)
		var ce *cassette.Error
		if err != nil && (!errors.As(err, &ce) || ce.Line < 0 || ce.Line > bytes.Count(data, []byte("\n"))+1) {
			t.Fatalf("error %v", err)
		}
		if err == nil || !strings.HasPrefix(ce.Msg, "invalid JSON: ") {
			text := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
			if len(bytes.TrimSpace(data)) > 0 && (!json.Valid(text) || !utf8.Valid(text)) {
				t.Fatalf("read without a syntax error (%v), but not valid JSON in UTF-8", err)
			}
		}
	})
}
