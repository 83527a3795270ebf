//go:build conformance

package testproxy

// Microsoft's own recordings, sanitized by the compiled central plan and by the sanitizers one by
// one: run by `make conformance` (go test -tags conformance), which finds them in
// $AZVCR_CONFORMANCE_DIR. They are not in this repository, so `make test` does not run this.

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/azvcr/azvcr/testproxyjson"
)

// TestConformanceRecordingsSanitizeAsOneByOne: the central plan edits every exchange of real
// recordings as the sanitizers one by one do.
func TestConformanceRecordingsSanitizeAsOneByOne(t *testing.T) {
	dir := os.Getenv("AZVCR_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "conformance", "armcosmos")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "recordings", "*.json"))
	if len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join(dir, "*.json"))
	}
	if len(files) == 0 {
		t.Fatalf("no test-proxy recordings in %s/recordings: the armcosmos conformance data is required", dir)
	}
	g := newRegistry()
	central := g.resolve(g.serverList())
	for _, file := range files {
		c, _, err := testproxyjson.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(file), func(t *testing.T) { assertAsOneByOne(t, central, c.Interactions) })
	}
}
