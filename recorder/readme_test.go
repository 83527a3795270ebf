package recorder_test

// The README's newcomer steps, run as written: a new module gets the recorder from a module proxy
// (a local one serving this checkout as github.com/azvcr/azvcr), the README's test is written
// into it verbatim, recorded against the real Cosmos-compatible upstream, linted with the azvcr
// command installed as the README says, and replayed with the upstream gone.

import (
	"archive/zip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/fixtures/cosmosflow"
	"github.com/azvcr/azvcr/fixtures/upstream"
)

// block is one fenced code block of the README: its language and its text, unindented.
type block struct{ lang, text string }

// newcomerSteps reads the README's newcomer steps: the code blocks between the markers.
func newcomerSteps(t *testing.T) (prose string, blocks []block) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	start := strings.Index(readme, "<!-- newcomer-steps")
	end := strings.Index(readme, "<!-- /newcomer-steps -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no <!-- newcomer-steps --> section")
	}
	section := readme[start:end]
	fence := regexp.MustCompile("(?m)^( *)```(\\w+)\\n((?:.*\\n)*?) *```\\n")
	for _, m := range fence.FindAllStringSubmatch(section, -1) {
		var lines []string
		for _, l := range strings.Split(strings.TrimSuffix(m[3], "\n"), "\n") {
			lines = append(lines, strings.TrimPrefix(l, m[1]))
		}
		blocks = append(blocks, block{lang: m[2], text: strings.Join(lines, "\n") + "\n"})
	}
	return section, blocks
}

// moduleVersion is the version the local proxy serves this checkout as.
const moduleVersion = "v0.1.0"

// serveModule lays out a GOPROXY directory serving the repository's files as
// github.com/azvcr/azvcr@v0.1.0.
func serveModule(t *testing.T, dir string) {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", repo, "ls-files", "-co", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	vdir := filepath.Join(dir, "github.com", "azvcr", "azvcr", "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("list", []byte(moduleVersion+"\n"))
	write(moduleVersion+".info", []byte(`{"Version":"`+moduleVersion+`","Time":"2026-01-01T00:00:00Z"}`))
	write(moduleVersion+".mod", gomod)
	f, err := os.Create(filepath.Join(vdir, moduleVersion+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, name := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		data, err := os.ReadFile(filepath.Join(repo, name))
		if os.IsNotExist(err) {
			continue // deleted, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create("github.com/azvcr/azvcr@" + moduleVersion + "/" + filepath.ToSlash(name))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// newcomerEnv is the environment of a user's shell: nothing of this test run's azvcr settings, Go
// commands resolving modules from the local proxy first, then the module cache and the usual
// proxy, into a module cache and bin of their own.
func newcomerEnv(t *testing.T, home string) []string {
	t.Helper()
	goEnv := func(k string) string {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", k, err)
		}
		return strings.TrimSpace(string(out))
	}
	proxy := "file://" + filepath.Join(home, "proxy") + ",file://" + filepath.Join(goEnv("GOMODCACHE"), "cache", "download")
	if p := goEnv("GOPROXY"); p != "" && p != "off" {
		proxy += "," + p
	}
	flags := strings.TrimSpace(goEnv("GOFLAGS") + " -trimpath") // -trimpath: reuse compiled packages across module caches
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case recorderModeEnv, azureModeEnv, "COSMOS_ENDPOINT", "COSMOS_KEY", "SSL_CERT_FILE", "SSL_CERT_DIR",
			"GOFLAGS", "GOPROXY", "GOMODCACHE", "GOBIN", "GOWORK", "GOSUMDB", "GOTOOLCHAIN", "PATH":
			continue
		}
		env = append(env, kv)
	}
	bin := filepath.Join(home, "bin")
	return append(env, "GOFLAGS="+flags, "GOPROXY="+proxy, "GOMODCACHE="+filepath.Join(home, "modcache"),
		"GOBIN="+bin, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOWORK=off", "GOSUMDB=off", "GOTOOLCHAIN=local")
}

const (
	recorderModeEnv = "AZVCR_MODE"
	azureModeEnv    = "AZURE_RECORD_MODE"
)

// exportedName finds the variables an export line sets (its values are placeholders).
var exportedName = regexp.MustCompile(`(?:^export| ) *([A-Z_]+)=`)

func TestREADMENewcomerSteps(t *testing.T) {
	prose, blocks := newcomerSteps(t)
	if len(blocks) != 6 || blocks[1].lang != "go" || !strings.Contains(prose, "`orders_test.go`") {
		t.Fatalf("the README's newcomer steps changed shape (%d blocks): update this test with them", len(blocks))
	}
	home := t.TempDir()
	serveModule(t, filepath.Join(home, "proxy"))
	env := newcomerEnv(t, home)
	t.Cleanup(func() { // the module cache is read-only; go clean can remove it
		cmd := exec.Command("go", "clean", "-modcache")
		cmd.Env = env
		cmd.Run()
	})
	mod := filepath.Join(home, "orders")
	os.MkdirAll(mod, 0o755)
	shell := func(script string, extra ...string) string {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = mod
		cmd.Env = append(append([]string{}, env...), extra...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("step failed:\n%s\n%v\n%s", script, err, out)
		}
		return string(out)
	}
	shell("go mod init example.com/orders && git init -q") // the newcomer's module, before step 1

	up, err := upstream.Start(home)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Stop()
	// What the README's export line stands for: the account (here the real Cosmos-compatible
	// upstream), its key, and, as for the emulator, its certificate.
	values := map[string]string{"COSMOS_ENDPOINT": up.Endpoint, "COSMOS_KEY": cosmosflow.EmulatorKey}
	var exported []string
	cassettePath := filepath.Join(mod, "testdata", "cassettes", "TestOrders.yaml")
	var outputs []string
	for i, b := range blocks {
		if b.lang == "go" {
			if err := os.WriteFile(filepath.Join(mod, "orders_test.go"), []byte(b.text), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var script []string
		for _, line := range strings.Split(b.text, "\n") {
			if !strings.HasPrefix(line, "export ") {
				script = append(script, line)
				continue
			}
			for _, m := range exportedName.FindAllStringSubmatch(line, -1) {
				k := m[1]
				v, ok := values[k]
				if !ok {
					t.Fatalf("the README exports %s, which this test has no value for", k)
				}
				exported = append(exported, k+"="+v)
			}
		}
		extra := exported
		recording := strings.Contains(b.text, "AZVCR_MODE=record go test")
		if recording {
			extra = append(extra, "SSL_CERT_FILE="+up.CAFile)
		}
		outputs = append(outputs, shell(strings.Join(script, "\n"), extra...))
		if recording {
			up.Stop() // from here on, nothing answers at COSMOS_ENDPOINT
			c, err := cassette.Load(cassettePath)
			if err != nil || len(c.Interactions) < 6 {
				t.Fatalf("after step %d: %v (%d interactions)", i, err, len(c.Interactions))
			}
			if _, err := os.Stat(cassettePath + ".recording"); !os.IsNotExist(err) {
				t.Errorf("the recording file is left beside the cassette: %v", err)
			}
		}
	}
	if len(exported) != 2 {
		t.Errorf("the README's steps export %v; want COSMOS_ENDPOINT and COSMOS_KEY", exported)
	}
	last := outputs[len(outputs)-1]
	if !strings.Contains(last, "ok  \texample.com/orders") || strings.Contains(last, "(cached)") {
		t.Errorf("replay did not run the test: %s", last)
	}
	if _, err := os.Stat(filepath.Join(home, "bin", "azvcr")); err != nil {
		t.Errorf("go install did not install azvcr: %v", err)
	}
	t.Logf("newcomer steps:\n%s", strings.Join(outputs, "\n"))
}
