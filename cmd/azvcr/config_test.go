package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/azvcr/azvcr/redact"
)

// The config file is read from --config, else from .azvcr.yaml in the working directory, and its
// errors stop azvcr with file and line.
func TestConfigFileLookup(t *testing.T) {
	dir := t.TempDir()
	cas := filepath.Join(dir, "c.yaml")
	os.WriteFile(cas, []byte("version: 2\ninteractions: []\n"), 0o644)
	os.WriteFile(filepath.Join(dir, redact.ConfigFile), []byte("redact:\n  disable: [durations]\n  rules:\n    - header: x-ms-session-token\n      replace: s\n"), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("redact:\n  rules:\n    - regex: '('\n"), 0o644)
	t.Chdir(dir)

	cmd, _, stderr := startBinary(t, "replay", "--cassette", cas, "--listen", "127.0.0.1:0", "--ca-dir", filepath.Join(dir, "ca"))
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	got := stderr.String()
	if !strings.Contains(got, "config .azvcr.yaml: redaction rules authorization") || strings.Contains(got, "durations") || !strings.Contains(got, "header x-ms-session-token") {
		t.Errorf("default config file not applied:\n%s", got)
	}

	var out, errb strings.Builder
	if code := run([]string{"replay", "--cassette", cas, "--config", bad, "--ca-dir", filepath.Join(dir, "ca")}, &out, &errb); code != exitError || !strings.Contains(errb.String(), bad+":3: redact rule 1: regex") {
		t.Errorf("bad config: exit %d, stderr %q", code, errb.String())
	}
}
