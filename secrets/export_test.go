package secrets

// NewScannerBatch is NewScanner reading its lines in batches of at most bytes bytes or lines
// lines, so tests cross batch boundaries with small inputs.
func NewScannerBatch(name string, bytes, lines int) *Scanner {
	s := NewScanner(name)
	s.limit = [2]int{bytes, lines}
	return s
}

// LintWhole is the whole-text reading Lint was before it ran a Scanner.
var LintWhole = lintWhole
