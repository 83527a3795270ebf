package secrets

import "strings"

// matchBinaryTag is binaryTag.FindStringSubmatch, quick for the lines without "!!binary".
func matchBinaryTag(line string) []string {
	if !strings.Contains(line, "!!binary") {
		return nil
	}
	return binaryTag.FindStringSubmatch(line)
}
