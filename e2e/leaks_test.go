package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// planted is one secret a test planted in what it recorded.
type planted struct {
	name, value string
	guid        bool // match case-insensitively
}

// encodings lists the forms a secret can take in a recording: as is; base64 (standard and URL
// alphabets) at each of the three alignments it can have inside a longer encoded text, and
// whole with and without padding; URL query and path escaped; and JSON string escaped as Go
// writes it, with / and + escaped as other encoders do (\/ \u002B \u002b) and with = as \u003d.
// Forms equal to an earlier one are left out.
func encodings(v string) [][2]string {
	js, _ := json.Marshal(v)
	jsonEsc := string(js[1 : len(js)-1])
	all := [][2]string{
		{"raw", v},
		{"base64", base64.StdEncoding.EncodeToString([]byte(v))},
		{"base64 unpadded", base64.RawStdEncoding.EncodeToString([]byte(v))},
		{"base64url", base64.URLEncoding.EncodeToString([]byte(v))},
		{"base64url unpadded", base64.RawURLEncoding.EncodeToString([]byte(v))},
	}
	for align := range 3 {
		for _, enc := range []struct {
			name string
			e    *base64.Encoding
		}{{"base64", base64.RawStdEncoding}, {"base64url", base64.RawURLEncoding}} {
			all = append(all, [2]string{fmt.Sprintf("%s at alignment %d", enc.name, align), base64Inside(enc.e, v, align)})
		}
	}
	all = append(all,
		[2]string{"query-escaped", url.QueryEscape(v)},
		[2]string{"path-escaped", url.PathEscape(v)},
		[2]string{"JSON-escaped", jsonEsc},
		[2]string{`JSON-escaped with \/ and \u002b`, strings.NewReplacer("/", `\/`, "+", `\u002b`).Replace(jsonEsc)},
		[2]string{`JSON-escaped with \/ and \u002B`, strings.NewReplacer("/", `\/`, "+", `\u002B`).Replace(jsonEsc)},
		[2]string{`JSON-escaped with \u002B and \u003d`, strings.NewReplacer("+", `\u002B`, "=", `\u003d`).Replace(jsonEsc)},
	)
	var out [][2]string
	seen := map[string]bool{}
	for _, f := range all {
		if f[1] != "" && !seen[f[1]] {
			seen[f[1]] = true
			out = append(out, f)
		}
	}
	return out
}

// base64Inside is the part of the base64 of a longer text that encodes only v, when v starts
// align bytes after a 3-byte boundary: what any encoding of a text holding v contains.
func base64Inside(e *base64.Encoding, v string, align int) string {
	enc := e.EncodeToString(append(make([]byte, align), v...))
	from := (align*8 + 5) / 6      // the first character whose bits are all v's
	to := (align + len(v)) * 8 / 6 // past the last such character
	if to-from < 8 {
		return "" // too short to name a secret
	}
	return enc[from:to]
}

// findLeaks searches the cassette bytes, and each decoded field (in case YAML quoting or line
// folding split a value), for every form of every secret, and says where each one is.
func findLeaks(data []byte, c *cassette.Cassette, secrets []planted) []string {
	type field struct{ where, text string }
	var fields []field
	for _, it := range c.Interactions {
		rq, rs := &it.Request, &it.Response
		pre := fmt.Sprintf("#%d (%s %s)", it.ID, rq.Method, shortPath(rq.URL))
		fields = append(fields, field{pre + " request URL", rq.URL}, field{pre + " request host", rq.Host}, field{pre + " request body", rq.Body})
		for _, k := range sortedKeys(rq.Form) {
			fields = append(fields, field{pre + " request form " + k, strings.Join(rq.Form[k], "\n")})
		}
		for _, k := range sortedKeys(rq.Headers) {
			fields = append(fields, field{pre + " request header " + k, strings.Join(rq.Headers[k], "\n")})
		}
		for _, k := range sortedKeys(rs.Headers) {
			fields = append(fields, field{pre + " response header " + k, strings.Join(rs.Headers[k], "\n")})
		}
		fields = append(fields, field{pre + " response body", rs.Body})
	}
	lowerData := strings.ToLower(string(data))

	var leaks []string
	for _, s := range secrets {
		variants := []string{s.value}
		if s.guid {
			variants = []string{strings.ToLower(s.value), strings.ToUpper(s.value)}
		}
		reported := map[string]bool{}
		for _, v := range variants {
			for _, enc := range encodings(v) {
				form, needle := enc[0], enc[1]
				textual := s.guid && !strings.HasPrefix(form, "base64")
				contains := func(hay string) bool {
					if textual {
						return strings.Contains(strings.ToLower(hay), strings.ToLower(needle))
					}
					return strings.Contains(hay, needle)
				}
				var where []string
				for _, f := range fields {
					if contains(f.text) {
						where = append(where, f.where)
					}
				}
				var lines []int
				hay, nd := string(data), needle
				if textual {
					hay, nd = lowerData, strings.ToLower(needle)
				}
				for off := 0; ; {
					i := strings.Index(hay[off:], nd)
					if i < 0 {
						break
					}
					lines = append(lines, strings.Count(hay[:off+i], "\n")+1)
					off += i + len(nd)
				}
				if len(where) == 0 && len(lines) == 0 {
					continue
				}
				key := form + fmt.Sprint(where, lines)
				if reported[key] {
					continue // upper- and lower-case GUID forms found in the same places
				}
				reported[key] = true
				msg := fmt.Sprintf("%s (%s) %d times in the file bytes (lines %s)", s.name, form, len(lines), shortInts(lines))
				if len(where) > 0 {
					msg += ": in " + strings.Join(where, "; ")
				}
				leaks = append(leaks, msg)
			}
		}
	}
	return leaks
}

// readCassette reads a cassette file as bytes (for the leak search) and as interactions.
func readCassette(t *testing.T, path string) ([]byte, *cassette.Cassette) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cassette.Load(path)
	if err != nil {
		t.Fatalf("cassette.Load: %v", err)
	}
	return data, c
}

func sortedKeys[M ~map[string][]string](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
func shortPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	p := u.Path
	if i := strings.Index(p, "/providers/"); i >= 0 {
		p = "…" + p[i:]
	}
	return u.Host + p
}
func shortInts(xs []int) string {
	var parts []string
	for i, x := range xs {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("… %d more", len(xs)-i))
			break
		}
		parts = append(parts, fmt.Sprint(x))
	}
	return strings.Join(parts, ",")
}

// TestBase64InsideEveryAlignment: the base64 needle for each alignment is found in the base64 of
// any text holding the secret at that alignment, whatever surrounds it.
func TestBase64InsideEveryAlignment(t *testing.T) {
	secret := "AccountKey=" + strings.Repeat("k3y+/", 12)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
		for pre := range 9 {
			text := strings.Repeat("x", pre) + secret + strings.Repeat("y", pre%4)
			needle := base64Inside(enc.WithPadding(base64.NoPadding), secret, pre%3)
			if !strings.Contains(enc.EncodeToString([]byte(text)), needle) {
				t.Errorf("prefix %d: %q not in the encoding", pre, needle)
			}
		}
	}
}
