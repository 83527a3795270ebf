// Package gitleaks runs the gitleaks secret scanner over files, as an oracle independent of
// azvcr's own detectors. The Makefile builds the pinned version into bin/gitleaks (make tools;
// make test does it first); a test that needs it fails, never skips, when it is missing.
package gitleaks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Version is the gitleaks release the Makefile installs (github.com/zricethezav/gitleaks/v8).
const Version = "v8.30.1"

// Finding is one secret gitleaks reports. Its Secret and Match are masked (gitleaks --redact).
type Finding struct {
	RuleID    string
	File      string
	StartLine int
	EndLine   int
	Match     string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: gitleaks %s: %s", f.File, f.StartLine, f.RuleID, f.Match)
}

// Root is the module root: the nearest directory above the working directory with a go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("gitleaks: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Binary is the path of bin/gitleaks under the module root, or an error saying how to build it.
func Binary() (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin", "gitleaks")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("gitleaks %s is needed as the leak oracle and is not at %s: run `make tools` in %s (make test builds it first)", Version, bin, root)
	}
	return bin, nil
}

// Scan runs gitleaks over path (a file or a directory, recursively) with the repository's
// .gitleaks.toml, which extends gitleaks's default rules.
func Scan(path string) ([]Finding, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	root, _ := Root()
	f, err := os.CreateTemp("", "gitleaks-*.json")
	if err != nil {
		return nil, err
	}
	f.Close()
	report := f.Name()
	defer os.Remove(report)
	cmd := exec.Command(bin, "dir", "--no-banner", "--no-color", "--log-level", "error", "--redact",
		"--exit-code", "0", "--config", filepath.Join(root, ".gitleaks.toml"),
		"--report-format", "json", "--report-path", report, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gitleaks dir %s: %v: %s", path, err, stderr.String())
	}
	data, err := os.ReadFile(report)
	if err != nil {
		return nil, err
	}
	var out []Finding
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("gitleaks report: %w", err)
	}
	return out, nil
}
