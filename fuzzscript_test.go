package azvcr_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scripts/fuzz.sh tries a target again only when Go's fuzz coordinator stopped it at the deadline
// with nothing failing, up to three runs in all; any other failure fails the run at once.
func TestFuzzScriptRetriesOnlyABareDeadline(t *testing.T) {
	script, err := filepath.Abs("scripts/fuzz.sh")
	if err != nil {
		t.Fatal(err)
	}
	const bareDeadline = "fuzz: elapsed: 6s, execs: 1297 (0/sec)\n--- FAIL: FuzzX (6.02s)\n    context deadline exceeded\nFAIL\n"
	const failingInput = "--- FAIL: FuzzX (0.10s)\n    --- FAIL: FuzzX (0.00s)\n        x_test.go:12: wrong\n" +
		"    context deadline exceeded\n    Failing input written to testdata/fuzz/FuzzX/abc\nFAIL\n"
	for _, tc := range []struct {
		name    string
		outputs []string // what each `go test` prints; "" means it passes
		wantOK  bool
		runs    int
	}{
		{"passes", []string{""}, true, 1},
		{"bare deadline, then passes", []string{bareDeadline, ""}, true, 2},
		{"bare deadline twice, then passes", []string{bareDeadline, bareDeadline, ""}, true, 3},
		{"bare deadline three times", []string{bareDeadline, bareDeadline, bareDeadline, ""}, false, 3},
		{"bare deadline, then a failing input", []string{bareDeadline, failingInput, ""}, false, 2},
		{"failing input", []string{failingInput, ""}, false, 1},
		{"panic", []string{"panic: boom\n    context deadline exceeded\nFAIL\n", ""}, false, 1},
		{"other failure", []string{"--- FAIL: FuzzX\n    build failed\n", ""}, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// A stand-in for go: the n-th call prints outputs[n] and fails, or passes when it is "".
			for i, o := range tc.outputs {
				if err := os.WriteFile(filepath.Join(dir, "out"+string(rune('0'+i))), []byte(o), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			fakeGo := filepath.Join(dir, "go")
			stub := `#!/usr/bin/env bash
n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count
if [[ -s out$n ]]; then cat out$n; exit 1; fi
echo "ok  	example/pkg	1.0s"
`
			if err := os.WriteFile(fakeGo, []byte(stub), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", script, "./pkg:FuzzX")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GO="+fakeGo, "FUZZTIME=1s")
			out, err := cmd.CombinedOutput()
			if ok := err == nil; ok != tc.wantOK {
				t.Errorf("passed = %v, want %v; output:\n%s", ok, tc.wantOK, out)
			}
			count, _ := os.ReadFile(filepath.Join(dir, "count"))
			if got := strings.TrimSpace(string(count)); got != string(rune('0'+tc.runs)) {
				t.Errorf("go test ran %s times, want %d; output:\n%s", got, tc.runs, out)
			}
		})
	}
}
