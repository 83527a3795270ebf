//go:build conformance

package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// TestConvertConformanceRecording converts one of Microsoft's real recordings from
// $AZVCR_CONFORMANCE_DIR (make conformance); missing, the test fails.
func TestConvertConformanceRecording(t *testing.T) {
	dir := os.Getenv("AZVCR_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "conformance", "armcosmos")
	}
	in := filepath.Join(dir, "recordings", "TestSqlResourcesTestSuite.json")
	if _, err := os.Stat(in); err != nil {
		in = filepath.Join(dir, "TestSqlResourcesTestSuite.json")
	}
	if _, err := os.Stat(in); err != nil {
		t.Fatalf("conformance recording missing (set AZVCR_CONFORMANCE_DIR): %v", err)
	}
	out := filepath.Join(t.TempDir(), "sql.yaml")
	code, _, stderr := convert(t, in, out)
	if code != exitOK || stderr != "azvcr convert: converted 86 interactions, 2 variables: "+in+" -> "+out+"\n" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	c, err := cassette.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if c.Variables["randSeed"] == "" || len(c.Interactions) != 86 {
		t.Errorf("cassette has %d interactions, variables %v", len(c.Interactions), c.Variables)
	}
}
