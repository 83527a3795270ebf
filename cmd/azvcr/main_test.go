package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
)

// azvcrBin is the real binary, built once: signals and kill -9 need a separate process.
var azvcrBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "azvcr-bin-")
	if err != nil {
		panic(err)
	}
	azvcrBin = filepath.Join(dir, "azvcr")
	if out, err := exec.Command("go", "build", "-o", azvcrBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building azvcr: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestRunExitCodesAndMessages(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 2\ninteractions:\n- request:\n    method: GET\n    url: /relative\n  response:\n    code: 200\n"), 0o644)
	future := filepath.Join(dir, "future.yaml")
	os.WriteFile(future, []byte("# recorded by a newer tool\nversion: 9\ninteractions: []\n"), 0o644)
	caDir := filepath.Join(dir, "ca")
	tests := []struct {
		name       string
		args       []string
		code       int
		wantOut    string
		wantStderr string
	}{
		{"help", []string{"-h"}, exitOK, "Exit codes:", ""},
		{"no args", nil, exitUsage, "", "Usage:"},
		{"unknown command", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{"record needs cassette", []string{"record"}, exitUsage, "", "--cassette FILE is required"},
		{"bad flag", []string{"replay", "--nope"}, exitUsage, "", "flag provided but not defined"},
		{"stray argument", []string{"replay", "--cassette", bad, "extra"}, exitUsage, "", `unexpected argument "extra"`},
		{"malformed cassette names file and line", []string{"replay", "--cassette", bad, "--ca-dir", caDir}, exitError, "", bad + ":3: interaction 0: request url \"/relative\" is not an absolute URL"},
		{"unknown version names file and line", []string{"replay", "--cassette", future, "--ca-dir", caDir}, exitError, "", future + ":2: unsupported cassette version 9"},
		{"missing cassette", []string{"replay", "--cassette", filepath.Join(dir, "none.yaml"), "--ca-dir", caDir}, exitError, "", "no such file"},
		{"ca path before init", []string{"ca", "path", "--ca-dir", filepath.Join(dir, "empty")}, exitError, "", "azvcr ca init"},
		{"ca unknown", []string{"ca", "rotate"}, exitUsage, "", "unknown subcommand"},
		{"version", []string{"version"}, exitOK, "azvcr ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errb.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout %q does not contain %q", out.String(), tt.wantOut)
			}
			if !strings.Contains(errb.String(), tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tt.wantStderr)
			}
		})
	}
}

func TestCAInitAndPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	var out, errb bytes.Buffer
	if code := run([]string{"ca", "init", "--ca-dir", dir}, &out, &errb); code != exitOK {
		t.Fatalf("ca init: exit %d: %s", code, errb.String())
	}
	certPath := strings.TrimSpace(out.String())
	if certPath != filepath.Join(dir, certs.CACertFile) {
		t.Fatalf("ca init printed %q", certPath)
	}
	st, err := os.Stat(filepath.Join(dir, certs.CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("CA key mode %04o, want 0600", st.Mode().Perm())
	}
	first, _ := os.ReadFile(certPath)

	// A second init keeps the CA clients already trust; the environment variable picks the dir.
	t.Setenv(certs.CADirEnv, dir)
	out.Reset()
	errb.Reset()
	if code := run([]string{"ca", "init"}, &out, &errb); code != exitOK || !strings.Contains(errb.String(), "already exists") {
		t.Fatalf("second init: exit %d, stderr %q", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"ca", "path"}, &out, &errb); code != exitOK || strings.TrimSpace(out.String()) != certPath {
		t.Fatalf("ca path: exit %d, printed %q", code, out.String())
	}
	again, _ := os.ReadFile(certPath)
	if !bytes.Equal(first, again) {
		t.Error("second ca init replaced the CA")
	}
}

// upstreamTLS is a real HTTPS server on loopback; its certificate goes to a PEM file for
// --upstream-ca. Requests to /slow block until release is closed.
func upstreamTLS(t *testing.T, release chan struct{}, slowArrived chan<- struct{}) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			slowArrived <- struct{}{}
			<-release
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	caFile := filepath.Join(t.TempDir(), "upstream.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	return srv, caFile
}

// startBinary runs azvcr and returns the process and the environment it printed.
func startBinary(t *testing.T, args ...string) (*exec.Cmd, map[string]string, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(azvcrBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &syncWriter{w: &stderr}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	env := map[string]string{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
		if _, ok := env["REQUESTS_CA_BUNDLE"]; ok { // the last line azvcr prints
			break
		}
	}
	if env["HTTPS_PROXY"] == "" || env["AZVCR_CA_CERT"] == "" {
		t.Fatalf("azvcr printed no client environment; stderr: %s", stderr.String())
	}
	go io.Copy(io.Discard, out)
	return cmd, env, &stderr
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// String is what was written, when w is a *bytes.Buffer.
func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.w)
}

func clientFromEnv(t *testing.T, env map[string]string) *http.Client {
	t.Helper()
	ca, err := certs.LoadCA(filepath.Dir(env["AZVCR_CA_CERT"]))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(env["HTTPS_PROXY"])
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		Proxy: http.ProxyURL(u), TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, MaxIdleConnsPerHost: 16,
	}}
}

func TestSIGINTFlushesAndExitsZero(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan struct{}, 1)
	up, upCA := upstreamTLS(t, release, arrived)
	dir := t.TempDir()
	cas := filepath.Join(dir, "c.yaml")
	cmd, env, stderr := startBinary(t, "record", "--cassette", cas, "--listen", "127.0.0.1:0", "--ca-dir", filepath.Join(dir, "ca"), "--upstream-ca", upCA)
	client := clientFromEnv(t, env)
	for i := range 3 {
		resp, err := client.Get(fmt.Sprintf("%s/item/%d", up.URL, i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("azvcr record after SIGINT: %v; stderr: %s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "azvcr record: 3 recorded") {
		t.Errorf("no summary on stderr: %s", stderr)
	}
	c, err := cassette.Load(cas)
	if err != nil || len(c.Interactions) != 3 {
		t.Fatalf("cassette after SIGINT: %v, %d interactions", err, len(c.Interactions))
	}

	// Replay, then SIGTERM: exit 0 with the replay summary.
	cmd, env, stderr = startBinary(t, "replay", "--cassette", cas, "--listen", "127.0.0.1:0", "--ca-dir", filepath.Join(dir, "ca"))
	client = clientFromEnv(t, env)
	resp, err := client.Get(up.URL + "/item/1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"path":"/item/1"}` {
		t.Errorf("replayed body %q", body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("azvcr replay after SIGTERM: %v", err)
	}
	if !strings.Contains(stderr.String(), "azvcr replay: 1 replayed, 2 unused, 0 misses") || !strings.Contains(stderr.String(), "unused #0 GET") {
		t.Errorf("replay summary missing: %s", stderr)
	}
}

func TestFailOnMissExitCode(t *testing.T) {
	dir := t.TempDir()
	cas := filepath.Join(dir, "empty.yaml")
	os.WriteFile(cas, []byte("version: 2\ninteractions: []\n"), 0o644)
	cmd, env, stderr := startBinary(t, "replay", "--fail-on-miss", "--cassette", cas, "--listen", "127.0.0.1:0", "--ca-dir", filepath.Join(dir, "ca"))
	resp, err := clientFromEnv(t, env).Get("https://acct.documents.azure.com/dbs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != engine.MissStatus || resp.Header.Get(engine.MissHeader) == "" {
		t.Errorf("miss answered %d with header %q", resp.StatusCode, resp.Header.Get(engine.MissHeader))
	}
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitMisses {
		t.Fatalf("exit %v, want %d; stderr: %s", err, exitMisses, stderr)
	}
}

// TestKill9KeepsEveryCompletedInteraction records with concurrent clients, kills azvcr with
// SIGKILL while a request is in flight, and checks the cassette loads and holds every interaction
// whose response a client received.
func TestKill9KeepsEveryCompletedInteraction(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan struct{}, 1)
	up, upCA := upstreamTLS(t, release, arrived)
	dir := t.TempDir()
	cas := filepath.Join(dir, "crash.yaml")
	cmd, env, _ := startBinary(t, "record", "--cassette", cas, "--listen", "127.0.0.1:0", "--ca-dir", filepath.Join(dir, "ca"), "--upstream-ca", upCA)
	client := clientFromEnv(t, env)

	var mu sync.Mutex
	completed := map[string]bool{}
	var n atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				path := fmt.Sprintf("/w%d/r%d", w, i)
				resp, err := client.Post(up.URL+path, "application/json", strings.NewReader(`{"n":1}`))
				if err != nil {
					return // azvcr was killed
				}
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					return
				}
				mu.Lock()
				completed[up.URL+path] = true
				mu.Unlock()
				n.Add(1)
			}
		}()
	}
	go func() { // one request that never completes: it is in flight at the kill
		resp, err := client.Get(up.URL + "/slow")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-arrived
	for n.Load() < 150 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	stop.Store(true)
	wg.Wait()

	c, err := cassette.Load(cas)
	if err != nil {
		t.Fatalf("cassette after kill -9 does not load: %v", err)
	}
	onDisk := map[string]bool{}
	for _, it := range c.Interactions {
		onDisk[it.Request.URL] = true
		if strings.HasSuffix(it.Request.URL, "/slow") {
			t.Error("the in-flight request was recorded")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for u := range completed {
		if !onDisk[u] {
			t.Errorf("completed interaction %s missing from the cassette", u)
		}
	}
	t.Logf("%d completed before kill -9, %d on disk", len(completed), len(c.Interactions))
}
