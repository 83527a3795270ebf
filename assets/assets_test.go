package assets_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/assets"
)

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func write(t *testing.T, file, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// assetsRepo is a bare repository laid out like Azure/azure-sdk-assets under base: recordings
// of several languages, each at a tag. It returns base (for AZVCR_ASSETS_BASE_URL).
func assetsRepo(t *testing.T, tags map[string]map[string]string) string {
	t.Helper()
	base := t.TempDir()
	bare := filepath.Join(base, "Azure", "azure-sdk-assets")
	run(t, base, "init", "-q", "--bare", bare)
	work := t.TempDir()
	run(t, work, "init", "-q")
	for tag, files := range tags {
		for name, content := range files {
			write(t, filepath.Join(work, filepath.FromSlash(name)), content)
		}
		run(t, work, "add", "-A")
		run(t, work, "commit", "-q", "-m", tag)
		run(t, work, "tag", tag)
		run(t, work, "push", "-q", bare, "refs/tags/"+tag)
	}
	return base
}

// codeRepo is a code repository with an assets.json at rel.
func codeRepo(t *testing.T, rel, tag string) string {
	t.Helper()
	root := t.TempDir()
	run(t, root, "init", "-q")
	write(t, filepath.Join(root, filepath.FromSlash(rel)), `{
  "AssetsRepo": "Azure/azure-sdk-assets",
  "AssetsRepoPrefixPath": "go",
  "TagPrefix": "go/resourcemanager/cosmos/armcosmos",
  "Tag": "`+tag+`"
}`)
	return filepath.Join(root, filepath.FromSlash(rel))
}

const (
	rec     = "go/sdk/resourcemanager/cosmos/armcosmos/testdata/recordings/TestX.json"
	jsRec   = "js/sdk/cosmosdb/arm-cosmosdb/recordings/node/x/recording_y.json"
	tagV1   = "go/resourcemanager/cosmos/armcosmos_0123456789"
	tagV2   = "go/resourcemanager/cosmos/armcosmos_abcdef0123"
	relJSON = "sdk/resourcemanager/cosmos/armcosmos/assets.json"
)

func TestRestoreSparseCheckoutAtTag(t *testing.T) {
	base := assetsRepo(t, map[string]map[string]string{
		tagV1: {rec: `{"v":1}`, jsRec: `{}`},
	})
	assetsJSON := codeRepo(t, relJSON, tagV1)
	s := &assets.Store{BaseURL: "file://" + base}
	dir, err := s.Restore(assetsJSON)
	if err != nil {
		t.Fatal(err)
	}
	root := strings.TrimSuffix(assetsJSON, filepath.FromSlash("/"+relJSON))
	hash := assets.ShortHash("Azure/azure-sdk-assets", relJSON)
	if want := filepath.Join(root, ".assets", hash, "go"); dir != want || len(hash) != 10 {
		t.Fatalf("restored to %s, want %s", dir, want)
	}
	got, err := os.ReadFile(filepath.Join(dir, "sdk/resourcemanager/cosmos/armcosmos/testdata/recordings/TestX.json"))
	if err != nil || string(got) != `{"v":1}` {
		t.Fatalf("recording: %q %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(root, ".assets", hash, "js")); !os.IsNotExist(err) {
		t.Errorf("the sparse checkout holds other languages' recordings (err %v)", err)
	}
	crumb, _ := os.ReadFile(filepath.Join(root, ".assets", ".breadcrumb"))
	if want := relJSON + ";;" + hash + ";;" + tagV1 + "\n"; string(crumb) != want {
		t.Errorf(".breadcrumb %q, want %q", crumb, want)
	}

	// Restored already: reused with the repository gone.
	os.RemoveAll(base)
	if again, err := s.Restore(assetsJSON); err != nil || again != dir {
		t.Fatalf("second restore without the repository: %s %v", again, err)
	}
}

func TestRestoreMovesToANewTag(t *testing.T) {
	base := assetsRepo(t, map[string]map[string]string{tagV1: {rec: `{"v":1}`}})
	assetsJSON := codeRepo(t, relJSON, tagV1)
	s := &assets.Store{BaseURL: base} // a plain path works as well as a file:// URL
	if _, err := s.Restore(assetsJSON); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	run(t, work, "clone", "-q", filepath.Join(base, "Azure", "azure-sdk-assets"), ".")
	run(t, work, "checkout", "-q", tagV1)
	write(t, filepath.Join(work, filepath.FromSlash(rec)), `{"v":2}`)
	run(t, work, "commit", "-q", "-am", "v2")
	run(t, work, "tag", tagV2)
	run(t, work, "push", "-q", "origin", "refs/tags/"+tagV2)
	write(t, assetsJSON, strings.Replace(mustRead(t, assetsJSON), tagV1, tagV2, 1))
	dir, err := s.Restore(assetsJSON)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, filepath.Join(dir, "sdk/resourcemanager/cosmos/armcosmos/testdata/recordings/TestX.json")); got != `{"v":2}` {
		t.Errorf("after the tag moved: %s", got)
	}
}

func mustRead(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestRestoreErrors(t *testing.T) {
	base := assetsRepo(t, map[string]map[string]string{tagV1: {rec: `{}`}})
	s := &assets.Store{BaseURL: "file://" + base}
	unreachable := &assets.Store{BaseURL: "file://" + filepath.Join(t.TempDir(), "nowhere")}
	notInGit := filepath.Join(t.TempDir(), "assets.json")
	write(t, notInGit, `{"AssetsRepo":"Azure/azure-sdk-assets","Tag":"x"}`)
	cases := []struct {
		name  string
		store *assets.Store
		file  string
		want  []string
	}{
		{"missing file", s, filepath.Join(t.TempDir(), "assets.json"), []string{"The provided assets.json path of", "does not exist"}},
		{"not in a git repository", s, notInGit, []string{"does not exist within a git repository"}},
		{"unknown tag", s, codeRepo(t, relJSON, "go/no-such-tag_0000000000"), []string{"go/no-such-tag_0000000000", base}},
		{"unreachable repository", unreachable, codeRepo(t, relJSON, tagV1), []string{tagV1, "nowhere/Azure/azure-sdk-assets"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.store.Restore(c.file)
			if err == nil {
				t.Fatal("restored")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestShortHash(t *testing.T) {
	// The letters and digits of base64(SHA-1(AssetsRepo + path of assets.json)), first 10.
	for in, want := range map[[2]string]string{
		{"Azure/azure-sdk-assets", "assets.json"}: "BYTSfomx1O",
		{"Azure/azure-sdk-assets", relJSON}:       "KsT1YCz3Id",
	} {
		if got := assets.ShortHash(in[0], in[1]); got != want {
			t.Errorf("ShortHash(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}
