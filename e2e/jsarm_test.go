package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azvcr/azvcr/fixtures/fakearm"
	"github.com/azvcr/azvcr/testproxyjson"
)

// jsARM is the azure-sdk-for-js-like tree whose suites use Microsoft's JS harness
// (@azure-tools/test-recorder with vitest) and @azure/arm-cosmosdb.
var jsARM = filepath.Join("..", "fixtures", "jsarm")

// jsARMPackage is where the suites sit in that tree, and where recordings go under it.
const jsARMPackage = "sdk/cosmosdb/arm-cosmosdb"

func requireJSARMDeps(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not on PATH (%v): install Node.js 20 and run `make deps`", err)
	}
	for _, pkg := range []string{"@azure-tools/test-recorder", "@azure/arm-cosmosdb", "@azure/identity", "vitest"} {
		if _, err := os.Stat(filepath.Join(jsARM, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("npm package %s is not installed in %s: run `make deps` (npm ci from the lockfile)", pkg, jsARM)
		}
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is not on PATH: %v", err)
	}
}

// jsARMTree lays the suites out in a fresh root (the recordings are written under it), with the
// fixture's node_modules linked in.
func jsARMTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	abs, err := filepath.Abs(jsARM)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(abs, "node_modules"), filepath.Join(root, "node_modules")); err != nil {
		t.Fatal(err)
	}
	err = filepath.Walk(filepath.Join(abs, "sdk"), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(abs, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(root, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(root, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"pnpm-workspace.yaml", "package.json"} {
		data, err := os.ReadFile(filepath.Join(abs, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(root, f), data, 0o644)
	}
	return root
}

// buildAzvcr builds the command into dir.
func buildAzvcr(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "azvcr")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/azvcr/azvcr/cmd/azvcr").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// azvcrStart is `azvcr start` running: its port and its log.
type azvcrStart struct {
	cmd  *exec.Cmd
	port string
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{}
}

func startAzvcr(t *testing.T, bin, root, caDir string, args ...string) *azvcrStart {
	t.Helper()
	all := append([]string{"start", "--storage-location", root}, args...)
	all = append(all, "--", "--urls=http://localhost:0")
	a := &azvcrStart{cmd: exec.Command(bin, all...), done: make(chan struct{})}
	a.cmd.Env = append(cleanEnv(), "AZVCR_CA_DIR="+caDir)
	stdout, _ := a.cmd.StdoutPipe()
	a.cmd.Stderr = writerFunc(func(p []byte) (int, error) { a.mu.Lock(); defer a.mu.Unlock(); return a.log.Write(p) })
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ports := make(chan string, 1)
	go func() {
		defer close(a.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`^Now listening on: http://localhost:(\d+)$`).FindStringSubmatch(sc.Text()); m != nil {
				ports <- m[1]
			}
		}
	}()
	select {
	case a.port = <-ports:
	case <-time.After(20 * time.Second):
		a.cmd.Process.Kill()
		t.Fatalf("azvcr start did not say where it listens; log:\n%s", a.logText())
	}
	t.Cleanup(func() { a.stop() })
	return a
}

func (a *azvcrStart) logText() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.log.String()
}

func (a *azvcrStart) stop() {
	if a.cmd.ProcessState == nil {
		a.cmd.Process.Signal(os.Interrupt)
		a.cmd.Wait()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// cleanEnv is the environment less anything that would steer a client or the proxy.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED", "NODE_OPTIONS",
			"TEST_MODE", "TEST_PROXY_HTTP_PORT", "IDENTITY_PROXY_URL", "SUBSCRIPTION_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
			"TEST_PROXY_DISABLE_DEFAULT_SANITIZERS", "AZVCR_TEST_PROXY_REMOVE_SANITIZERS", "PROXY_ASSETS_FOLDER":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runVitest runs the suites and returns vitest's output.
func runVitest(t *testing.T, root string, env ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(root, "node_modules", "vitest", "vitest.mjs"), "run")
	cmd.Dir = filepath.Join(root, filepath.FromSlash(jsARMPackage))
	cmd.Env = append(append(cleanEnv(), "CI=true", "NO_COLOR=1"), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var vitestTotals = regexp.MustCompile(`(?m)^\s*Tests\s+(\d+) passed \((\d+)\)`)

// TestJSHarnessRecordsAndReplaysThroughAzvcr records Microsoft's JS harness running suites of
// @azure/arm-cosmosdb through `azvcr start` against fakearm (management.azure.com and
// login.microsoftonline.com routed to it), checks the recordings are what test-proxy would write
// (central sanitizers applied, no planted secret), then plays them back with fakearm gone.
func TestJSHarnessRecordsAndReplaysThroughAzvcr(t *testing.T) {
	requireJSARMDeps(t)
	dir := t.TempDir()
	bin := buildAzvcr(t, dir)
	caDir := filepath.Join(dir, "ca")
	root := jsARMTree(t)
	sec := fakearm.NewSecrets()
	fake, err := fakearm.Start(dir, sec, fakearm.WithResourceGroups("myjstest")) // the suites' resource group
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()

	rec := startAzvcr(t, bin, root, caDir, "--resolve", fakearm.ARMHost+"="+fake.Addr, "--resolve", fakearm.LoginHost+"="+fake.Addr, "--upstream-ca", fake.CAFile)
	caPath, err := exec.Command(bin, "ca", "path", "--ca-dir", caDir).Output()
	if err != nil {
		t.Fatal(err)
	}
	out, err := runVitest(t, root,
		"TEST_MODE=record", "TEST_PROXY_HTTP_PORT="+rec.port,
		"SUBSCRIPTION_ID="+sec.SubscriptionID, "AZURE_TENANT_ID="+sec.TenantID, "AZURE_CLIENT_ID="+sec.ClientID, "AZURE_CLIENT_SECRET="+sec.ClientSecret,
		// The credential reaches Entra ID through azvcr's forward proxy, which routes it to fakearm.
		"IDENTITY_PROXY_URL=http://127.0.0.1:"+rec.port, "NODE_EXTRA_CA_CERTS="+strings.TrimSpace(string(caPath)))
	if err != nil {
		t.Fatalf("record run failed: %v\n%s\nazvcr log:\n%s", err, out, rec.logText())
	}
	recorded := vitestTotals.FindStringSubmatch(out)
	if recorded == nil || recorded[1] != recorded[2] {
		t.Fatalf("record run: no all-passed total in\n%s", out)
	}
	rec.stop()
	served := len(fake.Requests())
	fake.Close()

	files, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(jsARMPackage), "recordings", "node", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings written (%v)", err)
	}
	entries := checkJSRecordings(t, files, sec)
	if keep := os.Getenv("AZVCR_E2E_KEEP"); keep != "" {
		for _, f := range files {
			data, _ := os.ReadFile(f)
			os.WriteFile(filepath.Join(keep, filepath.Base(f)), data, 0o644)
		}
	}
	t.Logf("recorded %s tests in %d files, %d entries; fakearm served %d requests", recorded[1], len(files), entries, served)

	play := startAzvcr(t, bin, root, caDir)
	out, err = runVitest(t, root, "TEST_MODE=playback", "TEST_PROXY_HTTP_PORT="+play.port)
	if err != nil {
		t.Fatalf("playback run failed: %v\n%s\nazvcr log:\n%s", err, out, play.logText())
	}
	replayed := vitestTotals.FindStringSubmatch(out)
	if replayed == nil || replayed[1] != recorded[1] {
		t.Fatalf("playback: %v tests passed, want the %s recorded\n%s", replayed, recorded[1], out)
	}
	play.stop()
	// Every session stopped with every entry used.
	stops := regexp.MustCompile(`test-proxy playback stopped" .* replayed=(\d+) unused=(\d+) misses=(\d+)`).FindAllStringSubmatch(play.logText(), -1)
	used := 0
	for _, s := range stops {
		if s[2] != "0" || s[3] != "0" {
			t.Errorf("a playback session ended with %s unused and %s misses", s[2], s[3])
		}
		var n int
		fmt.Sscan(s[1], &n)
		used += n
	}
	if len(stops) != len(files) || used != entries {
		t.Errorf("%d playback sessions used %d entries; want %d sessions using all %d", len(stops), used, len(files), entries)
	}
	t.Logf("replayed %s tests, %d entries used", replayed[1], used)
}

// checkJSRecordings checks each recording as test-proxy would have written it and returns the
// number of entries.
func checkJSRecordings(t *testing.T, files []string, sec fakearm.Secrets) int {
	t.Helper()
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := testproxyjson.Parse(f, data)
		if err != nil {
			t.Fatal(err)
		}
		if leaks := findLeaks(data, c, plantedSecrets(sec)); len(leaks) > 0 {
			t.Errorf("%s leaks:\n%s", filepath.Base(f), strings.Join(leaks, "\n"))
		}
		for _, it := range c.Interactions {
			n++
			where := fmt.Sprintf("%s #%d %s", filepath.Base(f), it.ID, it.Request.URL)
			u := it.Request.URL
			if !strings.HasPrefix(u, "https://Sanitized.azure.com/") ||
				strings.Contains(u, "/subscriptions/") && !strings.HasPrefix(u, "https://Sanitized.azure.com/subscriptions/88888888-8888-8888-8888-888888888888/") {
				t.Errorf("%s: want AZSDK4001's host and, under /subscriptions, the harness's subscription", where)
			}
			if v := headerValues(it.Request.Headers, "Authorization"); len(v) != 1 || v[0] != "Sanitized" {
				t.Errorf("%s: Authorization %q, want Sanitized (AZSDK0000)", where, v)
			}
			for _, h := range []string{"x-ms-request-id", "x-ms-client-request-id"} {
				vals := append(headerValues(it.Request.Headers, h), headerValues(it.Response.Headers, h)...)
				for _, v := range vals {
					if v != "Sanitized" {
						t.Errorf("%s: %s %q, want Sanitized (AZSDK2020/2021)", where, h, v)
					}
				}
			}
		}
		if strings.Contains(string(data), "primaryMasterKey\": \"") && !strings.Contains(string(data), `"primaryMasterKey": "Sanitized"`) {
			t.Errorf("%s: master keys not Sanitized (AZSDK3454)", filepath.Base(f))
		}
	}
	return n
}
