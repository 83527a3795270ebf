package recorder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/azvcr/azvcr/redact"
)

// CassettePath is the cassette a test named name uses in dir: one file per test, subtests in a
// folder named after their parent (TestOrders/by_region.yaml). Characters a file system may
// refuse become '_'.
func CassettePath(dir, name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = safeName(p)
	}
	return filepath.Join(dir, filepath.Join(parts...)+".yaml")
}

// safeName keeps letters, digits and - _ . = + , of one path segment; "", "." and ".." (and
// names Windows reserves for devices) get a leading '_' so no segment leaves its folder.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("-_.=+,", c) >= 0
		if !ok {
			b[i] = '_'
		}
	}
	out := string(b)
	if strings.Trim(out, ".") == "" || windowsDevice(out) {
		out = "_" + out
	}
	return out
}

func windowsDevice(s string) bool {
	base, _, _ := strings.Cut(strings.ToUpper(s), ".")
	switch base {
	case "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return true
	}
	return false
}

// recordingSuffix names the file a record run writes; it becomes the cassette only when the test
// passes, so a failed or interrupted recording never replaces a good cassette.
const recordingSuffix = ".recording"

// install moves a finished recording over the cassette.
func install(recording, path string) error {
	if err := os.Rename(recording, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// inUse holds the cassettes open in this process, so two tests (parallel ones, say) never write
// or consume the same file at once.
var inUse = struct {
	sync.Mutex
	by map[string]string // absolute path -> test name
}{by: map[string]string{}}

func claim(path, test string) (release func(), err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	inUse.Lock()
	defer inUse.Unlock()
	if other, ok := inUse.by[abs]; ok {
		return nil, fmt.Errorf("cassette %s is already in use by %s: give each test its own cassette", path, other)
	}
	inUse.by[abs] = test
	return func() {
		inUse.Lock()
		delete(inUse.by, abs)
		inUse.Unlock()
	}, nil
}

// loadRedactor is the rules in force: the option's, else the config file's (named, or the
// nearest .azvcr.yaml), else azvcr's defaults. It also returns the config file used, if any.
func loadRedactor(c *config) (redact.Redactor, string, error) {
	if c.redactor != nil {
		return c.redactor, "", nil
	}
	path := c.configFile
	if path == "" {
		path = findConfig()
	}
	if path == "" {
		return redact.DefaultRules(), "", nil
	}
	cfg, err := redact.LoadConfig(path)
	if err != nil {
		return nil, "", err
	}
	r, err := cfg.Redact.Redactor()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return r, path, nil
}

// findConfig looks for .azvcr.yaml in the working directory (the test's package) and its parents,
// stopping at the module root.
func findConfig() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, redact.ConfigFile)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil || !errors.Is(err, os.ErrNotExist) {
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
