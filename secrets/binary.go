package secrets

import "strings"

// matchBinaryTag is binaryTag.FindStringSubmatch, quick for the lines without "!!binary".
func matchBinaryTag(line string) []string { return matchTagged(line, hasBinaryTag(line)) }

// hasBinaryTag: line holds "!!binary", which every line binaryTag matches does.
func hasBinaryTag(line string) bool { return strings.Contains(line, "!!binary") }

// matchTagged is matchBinaryTag for a line whose hasBinaryTag is known (the Scanner reads each
// line's twice).
func matchTagged(line string, tagged bool) []string {
	if !tagged {
		return nil
	}
	return binaryTag.FindStringSubmatch(line)
}
