// Package secrets recognises secrets by their shape: Cosmos DB keys and signatures, JWTs, bearer
// tokens, SAS signatures, connection-string keys and client secrets. azvcr lint reports what it
// finds in any file, line by line, through JSON escapes, URL encoding and !!binary bodies.
package secrets

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/azvcr/azvcr/internal/cores"
)

// Finding is something in a file that looks like a secret. Excerpt names the context and masks
// the value (its first four characters and its length), so printing a finding in a public CI log
// does not leak what it found.
type Finding struct {
	File    string
	Line    int
	Rule    string
	Excerpt string
}

// String reads "file:line: rule: excerpt".
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Excerpt)
}

// LintFile reads path and lints it.
func LintFile(path string) ([]Finding, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Lint(path, data), nil
}

// Lint reports everything in data that looks like a secret; name is used in findings only. It
// reads the raw text line by line, not the parsed cassette, so line numbers are exact and any
// file can be linted, a malformed cassette too. Each line is also read with JSON/YAML escapes
// (\/, \u002b) and URL encoding (%2B, sig%3D) undone and its base64 runs decoded, and YAML
// !!binary bodies are decoded and read as well. A YAML key whose values follow as "- value"
// items (headers, go-vcr's form map) names them: X-Api-Key's value is read as a named secret.
// Values that azvcr's redaction writes (REDACTED, the zero GUID) and short placeholders are not
// findings: each rule wants a value of the length and shape of the real thing; a placeholder
// with part of a secret beside it is one.
func Lint(name string, data []byte) []Finding {
	lines := strings.Split(string(data), "\n")
	binary := binaryLines(lines)
	hits := make([][]hit, len(lines))
	cores.Each(len(lines), 256, func() func(int) {
		type memoKey struct {
			line  string
			depth int
		}
		memo := map[memoKey][]hit{} // a recording repeats most of its lines
		return func(i int) {
			k := memoKey{strings.TrimSuffix(lines[i], "\r"), 0}
			if binary[i] {
				k.depth = maxDecodeDepth // read whole by scanBinaryBlocks
			}
			if found, ok := memo[k]; ok {
				hits[i] = found
				return
			}
			hits[i] = findHits(k.line, k.depth)
			if len(k.line) <= maxMemoLine && len(memo) < maxMemoLines {
				memo[k] = hits[i]
			}
		}
	})
	var out []Finding
	pendingKey := "" // a YAML key whose values follow as "- value" items
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		for _, h := range hits[i] {
			out = append(out, Finding{File: name, Line: i + 1, Rule: h.rule, Excerpt: h.excerpt})
		}
		if pendingKey != "" {
			if m := seqItem.FindStringSubmatch(line); m != nil {
				if h, ok := namedHit(pendingKey, unquote(m[1])); ok && !coveredLine(out, i+1) {
					out = append(out, Finding{File: name, Line: i + 1, Rule: h.rule, Excerpt: pendingKey + ": - " + mask(h.value, "")})
				}
				continue
			}
			pendingKey = ""
		}
		if m := matchSeqKey(line); m != nil {
			pendingKey = m[1]
		}
	}
	out = append(out, scanBinaryBlocks(name, lines)...)
	out = append(out, scanPEMBlocks(name, lines, out)...)
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Line - b.Line })
	return out
}

// matchSeqKey is seqKeyLine.FindStringSubmatch, quick for the lines that do not end in ':'.
func matchSeqKey(line string) []string {
	end := len(line)
	for end > 0 && strings.IndexByte("\t\n\f\r ", line[end-1]) >= 0 {
		end--
	}
	if end == 0 || line[end-1] != ':' {
		return nil
	}
	return seqKeyLine.FindStringSubmatch(line)
}

// containsBegin is what every match of pemBegin holds.
func containsBegin(line string) bool { return strings.Contains(line, "-----BEGIN") }

// Lint remembers what it found on lines this short, up to this many lines per core.
const (
	maxMemoLine  = 512
	maxMemoLines = 1 << 16
)

// coveredLine: the last finding is already on this line.
func coveredLine(fs []Finding, line int) bool {
	return len(fs) > 0 && fs[len(fs)-1].Line == line
}

// scanPEMBlocks finds private keys written over several lines (a body in a YAML block scalar):
// a BEGIN ... PRIVATE KEY line, base64 lines, an END line. The finding is on the BEGIN line.
func scanPEMBlocks(name string, lines []string, found []Finding) []Finding {
	var out []Finding
	for i, l := range lines {
		if !containsBegin(l) || !pemBegin.MatchString(l) || slices.ContainsFunc(found, func(f Finding) bool { return f.Line == i+1 && f.Rule == "private-key" }) {
			continue
		}
		var body strings.Builder
		for _, next := range lines[i+1:] {
			if strings.Contains(next, "-----END") {
				if v := body.String(); len(v) >= 40 && looksRandom(v) {
					out = append(out, Finding{File: name, Line: i + 1, Rule: "private-key", Excerpt: context(pemBegin.FindString(l)) + mask(v, "")})
				}
				break
			}
			body.WriteString(strings.TrimSpace(next))
		}
	}
	return out
}
