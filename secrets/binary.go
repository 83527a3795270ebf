package secrets

import (
	"encoding/base64"
	"strings"
)

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
		type chunk struct{ line, end int } // file line, and end offset in the joined base64
		var b64 strings.Builder
		var chunks []chunk
		if rest != "" && rest[0] != '|' && rest[0] != '>' {
			b64.WriteString(unquote(strings.Fields(rest)[0])) // a comment may follow
			chunks = append(chunks, chunk{i + 1, b64.Len()})
		} else {
			for j := i + 1; j < len(lines); j++ {
				l := strings.TrimSuffix(lines[j], "\r")
				t := strings.TrimSpace(l)
				if t != "" && len(l)-len(strings.TrimLeft(l, " \t")) <= indent {
					break
				}
				b64.WriteString(t)
				chunks = append(chunks, chunk{j + 1, b64.Len()})
				i = j
			}
		}
		data, err := base64.StdEncoding.DecodeString(b64.String())
		if err != nil || len(data) == 0 {
			continue
		}
		lineAt := func(off int) int { // file line of decoded byte offset off
			c := off / 3 * 4
			for _, ch := range chunks {
				if c < ch.end {
					return ch.line
				}
			}
			return chunks[len(chunks)-1].line
		}
		off := 0
		for _, dl := range strings.SplitAfter(string(data), "\n") {
			for _, h := range findHits(strings.TrimRight(dl, "\r\n"), 0) {
				out = append(out, Finding{File: name, Line: lineAt(off + h.start), Rule: h.rule, Excerpt: h.excerpt + " in !!binary"})
			}
			off += len(dl)
		}
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

// matchBinaryTag is binaryTag.FindStringSubmatch, quick for the lines without "!!binary".
func matchBinaryTag(line string) []string {
	if !strings.Contains(line, "!!binary") {
		return nil
	}
	return binaryTag.FindStringSubmatch(line)
}
