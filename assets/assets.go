// Package assets restores recordings kept outside a code repository, the way the Azure SDK
// test-proxy's GitStore does: an assets.json names a repository (AssetsRepo), a folder in it
// (AssetsRepoPrefixPath) and a tag; the tag is fetched with git into a sparse checkout under
// <repo root>/.assets/<short hash>/, which later restores reuse, and recording paths are resolved
// inside it.
package assets

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"unicode"
)

// DefaultBaseURL is where AssetsRepo names a repository: <base>/<AssetsRepo>.
const DefaultBaseURL = "https://github.com"

// BaseURLEnv overrides DefaultBaseURL (a file:// URL or a path to a local mirror, in tests).
const BaseURLEnv = "AZVCR_ASSETS_BASE_URL"

// FolderEnv is test-proxy's override of the .assets folder.
const FolderEnv = "PROXY_ASSETS_FOLDER"

// Config is a parsed assets.json and where it sits.
type Config struct {
	AssetsRepo           string `json:"AssetsRepo"`
	AssetsRepoPrefixPath string `json:"AssetsRepoPrefixPath"`
	TagPrefix            string `json:"TagPrefix"`
	Tag                  string `json:"Tag"`

	File     string // the assets.json, absolute
	RepoRoot string // the git repository holding it
	RelPath  string // File relative to RepoRoot, with forward slashes
}

// Load reads an assets.json (or the one in a directory) and finds the git repository it is in.
func Load(file string) (*Config, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("The provided assets.json path of %q does not exist.", abs)
	} else if fi.IsDir() {
		abs = filepath.Join(abs, "assets.json")
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	if t := string(bytes.TrimSpace(data)); t == "" || t == "{}" {
		return nil, fmt.Errorf("The provided assets.json at %q did not have valid json present.", abs)
	}
	c := &Config{File: abs}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("Unable to parse assets.json content at %q. Exception: %v", abs, err)
	}
	if c.AssetsRepo == "" {
		return nil, fmt.Errorf("Unable to utilize the assets.json present at %q. It must contain value for the key \"AssetsRepo\" to be considered a valid assets.json.", abs)
	}
	if c.Tag == "" {
		return nil, fmt.Errorf("%s names no Tag: there are no recordings to restore", abs)
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			c.RepoRoot = dir
			break
		}
		if filepath.Dir(dir) == dir {
			return nil, fmt.Errorf("The target directory %q does not exist within a git repository. This is disallowed when utilizing git store.", abs)
		}
	}
	rel, err := filepath.Rel(c.RepoRoot, abs)
	if err != nil {
		return nil, err
	}
	c.RelPath = filepath.ToSlash(rel)
	return c, nil
}

// ShortHash is test-proxy's folder name for a restored repository: the letters and digits of the
// base64 SHA-1 of AssetsRepo followed by the assets.json's path in the code repository, first 10.
func ShortHash(assetsRepo, relPath string) string {
	sum := sha1.Sum([]byte(assetsRepo + relPath))
	var b strings.Builder
	for _, r := range base64.StdEncoding.EncodeToString(sum[:]) {
		if b.Len() < 10 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Store restores assets with git.
type Store struct {
	BaseURL string // where AssetsRepo names a repository; DefaultBaseURL, or $AZVCR_ASSETS_BASE_URL, when empty
	Git     string // the git binary; "git" when empty

	mu    sync.Mutex
	locks map[string]*sync.Mutex // one restore at a time per location
}

// Location is the .assets folder and the repository's folder in it.
func (c *Config) Location() (store, repo string) {
	store = os.Getenv(FolderEnv)
	if store == "" {
		store = filepath.Join(c.RepoRoot, ".assets")
	}
	return store, filepath.Join(store, ShortHash(c.AssetsRepo, c.RelPath))
}

// checkoutPath is the folder a sparse checkout keeps: the prefix joined with the assets.json's
// folder in the code repository.
func (c *Config) checkoutPath() string {
	p := path.Join(c.AssetsRepoPrefixPath, path.Dir(c.RelPath))
	if p == "." || p == "" {
		return "./"
	}
	return p
}

// URL is where the assets repository is cloned and fetched from.
func (s *Store) URL(c *Config) string {
	base := s.BaseURL
	if base == "" {
		base = os.Getenv(BaseURLEnv)
	}
	if base == "" {
		base = DefaultBaseURL
	}
	return strings.TrimSuffix(base, "/") + "/" + c.AssetsRepo
}

// Restore makes the recordings the assets.json names available and returns the folder recording
// paths are relative to: <repo location>/<AssetsRepoPrefixPath>. A repository already restored at
// the tag is reused without going to the network.
func (s *Store) Restore(assetsJSON string) (string, error) {
	c, err := Load(assetsJSON)
	if err != nil {
		return "", err
	}
	store, repo := c.Location()
	lock := s.lock(repo)
	lock.Lock()
	defer lock.Unlock()
	if err := os.MkdirAll(repo, 0o755); err != nil {
		return "", err
	}
	url := s.URL(c)
	if _, err := os.Stat(filepath.Join(repo, ".git")); err != nil {
		if _, err := s.git(repo, "clone", "-c", "core.longpaths=true", "--no-checkout", "--filter=tree:0", url, "."); err != nil {
			os.RemoveAll(filepath.Join(repo, ".git"))
			return "", fmt.Errorf("restoring %s: cannot clone %s for tag %s: %v", c.File, url, c.Tag, err)
		}
		if _, err := s.git(repo, "sparse-checkout", "init"); err != nil {
			return "", err
		}
	}
	if !s.atTag(repo, c.Tag) {
		if _, err := s.git(repo, "rev-parse", "-q", "--verify", "refs/tags/"+c.Tag+"^{commit}"); err != nil {
			if _, err := s.git(repo, "fetch", "origin", "refs/tags/"+c.Tag+":refs/tags/"+c.Tag); err != nil {
				return "", fmt.Errorf("restoring %s: cannot fetch tag %s from %s: %v", c.File, c.Tag, url, err)
			}
		}
		s.git(repo, "clean", "-xdf")
		if _, err := s.git(repo, "sparse-checkout", "set", "--no-cone", c.checkoutPath()); err != nil {
			return "", err
		}
		if _, err := s.git(repo, "-c", "advice.detachedHead=false", "checkout", "-f", c.Tag); err != nil {
			return "", fmt.Errorf("restoring %s: cannot check out tag %s: %v", c.File, c.Tag, err)
		}
	}
	if err := updateBreadcrumb(store, c); err != nil {
		return "", err
	}
	return filepath.Join(repo, filepath.FromSlash(c.AssetsRepoPrefixPath)), nil
}

func (s *Store) lock(repo string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks == nil {
		s.locks = map[string]*sync.Mutex{}
	}
	if s.locks[repo] == nil {
		s.locks[repo] = &sync.Mutex{}
	}
	return s.locks[repo]
}

// atTag: the checkout's HEAD is the tag's commit.
func (s *Store) atTag(repo, tag string) bool {
	head, err := s.git(repo, "rev-parse", "-q", "--verify", "HEAD")
	if err != nil {
		return false
	}
	want, err := s.git(repo, "rev-parse", "-q", "--verify", "refs/tags/"+tag+"^{commit}")
	return err == nil && head == want
}

func (s *Store) git(dir string, args ...string) (string, error) {
	bin := s.Git
	if bin == "" {
		bin = "git"
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return strings.TrimSpace(out.String()), nil
}

// updateBreadcrumb records, in <.assets>/.breadcrumb, which tag each assets.json is restored at:
// one line "path;;hash;;tag" per assets.json.
func updateBreadcrumb(store string, c *Config) error {
	file := filepath.Join(store, ".breadcrumb")
	var lines []string
	if data, err := os.ReadFile(file); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, c.RelPath+";;") {
				lines = append(lines, l)
			}
		}
	}
	lines = append(lines, c.RelPath+";;"+ShortHash(c.AssetsRepo, c.RelPath)+";;"+c.Tag)
	return os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}
