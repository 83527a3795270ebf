package redact

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dlclark/regexp2"
)

func TestRequiredLiteral(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`SharedAccessKey=(?<key>[^;\"]+)`, "SharedAccessKey="},
		{`(?:[?&](sig|sv)=)(?<secret>[^&\"\s\n,\\]+)`, "="},
		{`-----BEGIN PRIVATE KEY-----\n(?<cert>.+\n)*-----END PRIVATE KEY-----\n`, "-----BEGIN PRIVATE KEY-----\n"},
		{`(?<=<UserDelegationKey>).+?(?:<Value>)(?<group>.+)(?:</Value>)`, "<UserDelegationKey>"},
		{`(?:Password=)(?<pwd>.+?)(?:;)`, "Password="},
		{`ab?cd`, "cd"},
		{`ab+cd`, "ab"},
		{`abc{2,}d`, "abc"},
		{`abc{0,3}d`, "ab"},
		{`x(?:yz)?w`, "x"},
		{`(hello)*there`, "there"},
		{`(?!secret)public`, "public"},
		{`[]a]bcd`, "bcd"},
		{`[a-z-[aeiou]]xyz`, "xyz"},
		{`\.net\b`, ".net"},
		{`\p{Lu}abc`, "abc"},
		// nothing proved
		{`(?<=http://|https://)(?<host>[^/?\.]+)`, ""},
		{`abc|def`, ""},
		{`(?i)secret`, ""},
		{`(?i:secret)`, ""},
		{`(a)\1`, ""},
		{`\x41BC`, ""},
		{`a{b`, ""},
		{`.+`, ""},
		{`(?<a-b>x)`, ""},
		{`(?(x)a|b)`, ""},
		{`abc)`, ""},
		{`é+x`, "x"},
	} {
		if got := requiredLiteral(tc.expr); got != tc.want {
			t.Errorf("requiredLiteral(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// Every central expression of test-proxy's list proves a literal except the URI host one, so
// bodies without those words skip the regex.
func TestRequiredLiteralHoldsForMatches(t *testing.T) {
	texts := []string{
		"", "Endpoint=sb://x/;SharedAccessKey=abc;", "AccountKey=k;x", "https://a.blob.core.windows.net/c?sv=1&sig=abc",
		"-----BEGIN PRIVATE KEY-----\nAAA\nBBB\n-----END PRIVATE KEY-----\n", "<UserDelegationKey><Value>v</Value>",
		"Password=p;User ID=u;", "<PrimaryKey>k</PrimaryKey>", "x.net y", "Xabc", "abbbcd", "acd", "abccd", "xw", "xyzw",
		"hellohellothere", "publicsecret", "]bcd", "bxyz", "token=t&client_id=c",
	}
	exprs := []string{
		`SharedAccessKey=(?<key>[^;\"]+)`, `AccountKey=(?<key>[^;\"]+)`, `(?:[?&](sig|sv)=)(?<secret>[^&\"\s\n,\\]+)`,
		`-----BEGIN PRIVATE KEY-----\n(?<cert>.+\n)*-----END PRIVATE KEY-----\n`,
		`(?<=<UserDelegationKey>).+?(?:<Value>)(?<group>.+)(?:</Value>)`, `(?:Password=)(?<pwd>.+?)(?:;)`,
		`(?:<PrimaryKey>)(?<key>.+)(?:</PrimaryKey>)`, `\.net\b`, `\p{Lu}abc`, `ab?cd`, `ab+cd`, `abc{0,3}d`,
		`x(?:yz)?w`, `(hello)*there`, `(?!secret)public`, `[]a]bcd`, `[a-z-[aeiou]]xyz`, `(client_id=)(?<cid>[^&\"\s\n,\\]+)`,
	}
	for _, expr := range exprs {
		for _, text := range texts {
			checkLiteral(t, expr, text)
		}
	}
}

func checkLiteral(t *testing.T, expr, text string) {
	t.Helper()
	re, err := regexp2.Compile(expr, regexp2.None)
	if err != nil {
		return
	}
	re.MatchTimeout = time.Second
	lit := requiredLiteral(expr)
	if ok, err := re.MatchString(text); err == nil && ok && !strings.Contains(text, lit) {
		t.Errorf("%q matches %q, which lacks the required literal %q", expr, text, lit)
	} else if err == nil && ok && !holdsRequired(text, requiredLiterals(expr)) {
		t.Errorf("%q matches %q, which lacks one of the required texts %q", expr, text, requiredLiterals(expr))
	}
}

// The sets of texts proved for test-proxy's expressions: a choice where a branch is required.
func TestRequiredLiterals(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want [][]string
	}{
		{`(?:[?&](sig|sv)=)(?<secret>[^&\"\s\n,\\]+)`, [][]string{{"sig", "sv"}, {"="}}},
		{`(?<=http://|https://)(?<host>[^/?\.]+)`, [][]string{{"http://", "https://"}}},
		{`AccountKey=(?<key>[^;\"]+)`, [][]string{{"AccountKey="}}},
		{`(a|b?)c`, [][]string{{"c"}}},
		{`x(ab|cd)?y`, [][]string{{"x"}, {"y"}}},
		{`(?!ab|cd)z`, [][]string{{"z"}}},
		{`((ab|cd)e|fgh)`, [][]string{{"ab", "cd", "fgh"}}},
	} {
		if got := requiredLiterals(tc.expr); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("requiredLiterals(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// FuzzRequiredLiteral: a text that an expression matches holds the literal it requires.
func FuzzRequiredLiteral(f *testing.F) {
	f.Add(`(?:Password=)(?<pwd>.+?)(?:;)`, "Password=p;")
	f.Add(`ab?c(d|e)+[f-h]{2,3}?`, "acdeff")
	f.Add(`(?<=x(?:yz)?)w\n`, "xw\n")
	f.Add(`[^]a-[b]]q\.r{1}`, "cq.r")
	f.Fuzz(func(t *testing.T, expr, text string) {
		if len(expr) > 200 || len(text) > 1000 {
			return
		}
		checkLiteral(t, expr, text)
	})
}

// A rule that skips its regex for want of the literal edits what it edited running it.
func TestReplaceWithLiteralAsWithout(t *testing.T) {
	texts := []string{"", "nothing here", "a=1&sig=abc&b=2", "Endpoint=sb://x/;SharedAccessKey=abc;", "Password=p;User ID=u;",
		"<UserDelegationKey><SignedOid>o</SignedOid><Value>v</Value></UserDelegationKey>", "client_id=c&client_secret=s"}
	for _, s := range []Sanitizer{
		{Regex: `sig=(?<sig>[^&]+)`, Group: "sig", Value: SanitizedValue},
		{Regex: `SharedAccessKey=(?<key>[^;\"]+)`, Group: "key", Value: "MA=="},
		{Regex: `(?:Password=)(?<pwd>.+?)(?:;)`, Group: "pwd", Value: SanitizedValue},
		{Regex: `(?<=<UserDelegationKey>).+?(?:<Value>)(?<group>.+)(?:</Value>)`, Group: "group", Value: "MA=="},
		{Regex: `client_secret=[^&]+`, Value: "client_secret=x"},
	} {
		fast, err := NewSanitizerRule(s)
		if err != nil {
			t.Fatal(err)
		}
		if fast.literal == "" {
			t.Errorf("%q: no literal proved", s.Regex)
		}
		slow := *fast
		slow.literal = ""
		for _, text := range texts {
			if got, want := fast.replace(text), slow.replace(text); got != want {
				t.Errorf("%q on %q: %q, want %q", s.Regex, text, got, want)
			}
		}
	}
}

// The header sanitizers' default ".+" replaces as the regex does.
func TestReplaceLinesAsRegex(t *testing.T) {
	re := regexp2.MustCompile(".+", regexp2.None)
	for _, s := range []string{"", "a", "abc def", "\n", "a\nb", "\n\na\r\n\n", "é\xff\x00z", "x\n", "\u2028y"} {
		for _, v := range []string{"Sanitized", "", "https://example.com"} {
			want, err := re.Replace(s, v, -1, -1)
			if err != nil {
				t.Fatal(err)
			}
			if got := replaceLines(s, v); got != want {
				t.Errorf("replaceLines(%q, %q) = %q, want %q", s, v, got, want)
			}
		}
	}
}
