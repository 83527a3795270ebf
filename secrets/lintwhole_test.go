package secrets

import (
	"slices"
	"strings"

	"github.com/azvcr/azvcr/internal/cores"
)

// lintWhole is Lint as it was before the Scanner: the whole text split into lines and read at
// once. The Scanner, which Lint now runs, is held to it (TestScannerMatchesLint, FuzzScanner): two
// readings of one rule set written independently.
func lintWhole(name string, data []byte) []Finding {
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

// scanBinaryBlocks decodes YAML !!binary scalars (bodies that are not UTF-8, which azvcr writes
// as base64) and lints what they hold: a secret inside a binary body is still a secret. A finding
// is reported on the line holding the base64 that encodes it.
func scanBinaryBlocks(name string, lines []string) []Finding {
	var out []Finding
	for i := 0; i < len(lines); i++ {
		m := matchBinaryTag(strings.TrimSuffix(lines[i], "\r"))
		if m == nil {
			continue
		}
		indent, rest := len(m[1]), m[2]
		if rest != "" && rest[0] != '|' && rest[0] != '>' {
			if b64, ok := inlineBinary(rest); ok {
				out = append(out, binaryFindings(name, b64, []binaryChunk{{i + 1, len(b64)}})...)
			}
			continue
		}
		var b64 strings.Builder
		var chunks []binaryChunk
		for j := i + 1; j < len(lines); j++ {
			l := strings.TrimSuffix(lines[j], "\r")
			t := strings.TrimSpace(l)
			if t != "" && len(l)-len(strings.TrimLeft(l, " \t")) <= indent {
				break
			}
			b64.WriteString(t)
			chunks = append(chunks, binaryChunk{j + 1, b64.Len()})
			i = j
		}
		out = append(out, binaryFindings(name, b64.String(), chunks)...)
	}
	return out
}

// binaryLines marks the lines of YAML !!binary scalars, which scanBinaryBlocks reads decoded.
func binaryLines(lines []string) []bool {
	out := make([]bool, len(lines))
	for i := 0; i < len(lines); i++ {
		m := matchBinaryTag(strings.TrimSuffix(lines[i], "\r"))
		if m == nil {
			continue
		}
		out[i] = true
		indent := len(m[1])
		for j := i + 1; j < len(lines); j++ {
			l := strings.TrimSuffix(lines[j], "\r")
			if t := strings.TrimSpace(l); t != "" && len(l)-len(strings.TrimLeft(l, " \t")) <= indent {
				break
			}
			out[j] = true
			i = j
		}
	}
	return out
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
