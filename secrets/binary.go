package secrets

import "strings"

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

// matchBinaryTag is binaryTag.FindStringSubmatch, quick for the lines without "!!binary".
func matchBinaryTag(line string) []string {
	if !strings.Contains(line, "!!binary") {
		return nil
	}
	return binaryTag.FindStringSubmatch(line)
}
