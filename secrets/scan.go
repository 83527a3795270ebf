// Package secrets recognises secrets by their shape: Cosmos DB keys and signatures, JWTs, bearer
// tokens, SAS signatures, connection-string keys and client secrets. azvcr lint reports what it
// finds in any file, line by line, through JSON escapes, URL encoding and !!binary bodies.
package secrets

import (
	"fmt"
	"io"
	"os"
	"strings"
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

// LintFile lints the file at path, read a block at a time (a large file is never held whole).
func LintFile(path string) ([]Finding, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := NewScanner(path)
	if _, err := io.Copy(s, f); err != nil {
		return nil, err
	}
	return s.Close(), nil
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
	s := NewScanner(name)
	s.Write(data)
	return s.Close()
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
