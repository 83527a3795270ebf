package jsonnum

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEnd(t *testing.T) {
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
		end, ok := End(tt.in, 0)
		bend, bok := End([]byte(tt.in), 0)
		if end != tt.end || ok != tt.ok || bend != end || bok != ok {
			t.Errorf("End(%q) = %d, %v (bytes: %d, %v); want %d, %v", tt.in, end, ok, bend, bok, tt.end, tt.ok)
		}
	}
}

// FuzzEnd: a whole text is a JSON number exactly when End reads all of it.
func FuzzEnd(f *testing.F) {
	for _, s := range []string{"0", "-1.5e+10", "01", "1.", "-", "1e-", "123456789012345678901234567890"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		end, ok := End(s, 0)
		// a valid JSON text that starts with a number's first character and has no white space
		isNumber := json.Valid([]byte(s)) && strings.IndexAny(s, " \t\r\n") < 0 && strings.IndexByte("-0123456789", s[0]) >= 0
		if whole := ok && end == len(s); whole != isNumber {
			t.Errorf("End(%q) = %d, %v; encoding/json says number: %v", s, end, ok, isNumber)
		}
	})
}
