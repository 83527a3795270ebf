package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/azvcr/azvcr/internal/gitleaks"
	"github.com/azvcr/azvcr/secrets"
)

// recordings keeps a copy of every cassette this suite records, for gitleaks and azvcr lint to
// read once the tests are done (the tests' own directories are gone by then).
var recordings struct {
	mu  sync.Mutex
	dir string
	n   int
}

// keepRecording copies the file at path, once the test and its proxies are done, for the
// end-of-run scan. startProxy calls it for every recording proxy.
func keepRecording(t testing.TB, path string) {
	t.Cleanup(func() {
		data, err := os.ReadFile(path)
		if err != nil {
			return // the test recorded nothing
		}
		recordings.mu.Lock()
		defer recordings.mu.Unlock()
		recordings.n++
		name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_")
		dst := filepath.Join(recordings.dir, fmt.Sprintf("%03d-%s-%s", recordings.n, name, filepath.Base(path)))
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Errorf("keeping %s for the leak scan: %v", path, err)
		}
	})
}

// scanRecordings runs gitleaks and azvcr lint over every recording the suite wrote and returns
// what they found, one line each.
func scanRecordings() ([]string, int, error) {
	entries, err := os.ReadDir(recordings.dir)
	if err != nil {
		return nil, 0, err
	}
	var problems []string
	if len(entries) > 0 {
		found, err := gitleaks.Scan(recordings.dir)
		if err != nil {
			return nil, 0, err
		}
		for _, f := range found {
			problems = append(problems, f.String())
		}
	}
	for _, e := range entries {
		fs, err := secrets.LintFile(filepath.Join(recordings.dir, e.Name()))
		if err != nil {
			return nil, 0, err
		}
		for _, f := range fs {
			problems = append(problems, "azvcr lint: "+f.String())
		}
	}
	return problems, len(entries), nil
}

// shippedRecordings are the recordings committed to the repository (cassettes and test-proxy
// files), less lint's own test inputs in secrets/testdata, which hold near misses and a
// template of leaks on purpose.
func shippedRecordings(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-co", "--exclude-standard", "*.yaml", "*.yml", "*.json")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var files []string
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "secrets/testdata/") || strings.Contains(f, "node_modules/") || strings.HasSuffix(f, "package-lock.json") || strings.HasSuffix(f, "package.json") {
			continue
		}
		files = append(files, filepath.Join(root, f))
	}
	return files
}

// TestShippedFixturesAreClean: gitleaks finds nothing in the fixtures and the recordings this
// repository ships, and neither does azvcr lint.
func TestShippedFixturesAreClean(t *testing.T) {
	root, err := gitleaks.Root()
	if err != nil {
		t.Fatal(err)
	}
	files := shippedRecordings(t, root)
	if len(files) < 3 {
		t.Fatalf("only %d shipped recordings found: %v", len(files), files)
	}
	targets := append([]string{filepath.Join(root, "fixtures")}, files...)
	for _, target := range targets {
		found, err := gitleaks.Scan(target)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			t.Errorf("%s", f)
		}
	}
	for _, f := range files {
		fs, err := secrets.LintFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range fs {
			t.Errorf("azvcr lint: %s", x)
		}
	}
	t.Logf("gitleaks %s and azvcr lint: fixtures/ and %d shipped recordings clean", gitleaks.Version, len(files))
}

// TestGitleaksIsTheMakefilesVersion: the helper and the Makefile pin the same release.
func TestGitleaksIsTheMakefilesVersion(t *testing.T) {
	root, err := gitleaks.Root()
	if err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), "GITLEAKS_VERSION := "+gitleaks.Version+"\n") {
		t.Errorf("the Makefile does not install gitleaks %s", gitleaks.Version)
	}
}
