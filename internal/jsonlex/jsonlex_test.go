package jsonlex

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNumber(t *testing.T) {
	tests := []struct {
		in  string
		end int
		ok  bool
	}{
		{"0", 1, true}, {"-0", 2, true}, {"12", 2, true}, {"1.5", 3, true}, {"1e9", 3, true}, {"1E+9,", 4, true},
		{"-1.25e-3]", 8, true}, {"01", 1, true}, {"", 0, false}, {"-", 0, false}, {"1.", 0, false}, {"1e", 0, false},
		{".5", 0, false}, {"+1", 0, false}, {"1.e5", 0, false},
	}
	for _, tt := range tests {
		end, ok := Number(tt.in, 0)
		bend, bok := Number([]byte(tt.in), 0)
		if end != tt.end || ok != tt.ok || bend != end || bok != ok {
			t.Errorf("Number(%q) = %d, %v (bytes: %d, %v); want %d, %v", tt.in, end, ok, bend, bok, tt.end, tt.ok)
		}
	}
}

// FuzzNumber: a whole text is a JSON number exactly when End reads all of it.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"0", "-1.5e+10", "01", "1.", "-", "1e-", "123456789012345678901234567890"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		end, ok := Number(s, 0)
		// a valid JSON text that starts with a number's first character and has no white space
		isNumber := json.Valid([]byte(s)) && strings.IndexAny(s, " \t\r\n") < 0 && strings.IndexByte("-0123456789", s[0]) >= 0
		if whole := ok && end == len(s); whole != isNumber {
			t.Errorf("Number(%q) = %d, %v; encoding/json says number: %v", s, end, ok, isNumber)
		}
	})
}

// FuzzString: a whole text that starts with a quote is a JSON string exactly when String reads
// all of it.
func FuzzString(f *testing.F) {
	for _, s := range []string{`""`, `"a\"b"`, `"\u00e9"`, `"\u00g9"`, `"\x"`, "\"\x01\"", `"abc`, "true", "nul", "false!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) == 0 || s[0] != '"' { // String is called at a quote
			return
		}
		valid := json.Valid([]byte(s)) && s[len(s)-1] == '"' // a string, and nothing after it
		end, escaped, ok := String(s, 0)
		if isString := valid; (ok && end == len(s)) != isString {
			t.Errorf("String(%q) = %d, %v; encoding/json says string: %v", s, end, ok, isString)
		}
		if ok && end == len(s) && escaped != strings.Contains(s, "\\") {
			t.Errorf("String(%q) says escaped %v", s, escaped)
		}
	})
}

func TestLiteral(t *testing.T) {
	for _, tt := range []struct {
		in  string
		end int
		ok  bool
	}{{"true", 4, true}, {"false,", 5, true}, {"null]", 4, true}, {"nul", 0, false}, {"tru", 0, false}, {"fals", 0, false}, {"n", 0, false}} {
		if end, ok := Literal(tt.in, 0); end != tt.end || ok != tt.ok {
			t.Errorf("Literal(%q) = %d, %v; want %d, %v", tt.in, end, ok, tt.end, tt.ok)
		}
	}
}
