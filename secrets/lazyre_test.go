package secrets

import "testing"

// TestDetectorsCompile compiles every detector's expression, as a program that runs them all
// would: a lazily compiled expression that does not compile must fail here, not in use.
func TestDetectorsCompile(t *testing.T) {
	for _, d := range detectors {
		if d.re.get() == nil || d.re.SubexpIndex("v") < 0 {
			t.Errorf("%s: expression %q has no group v", d.rule, d.re.src)
		}
	}
}
