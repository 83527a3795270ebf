package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
)

// runReturns runs the command in process and fails (rather than hang) if it goes on serving.
func runReturns(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(args, &out, &errb) }()
	select {
	case code := <-done:
		return code, out.String(), errb.String()
	case <-time.After(20 * time.Second):
		t.Fatalf("azvcr %s did not return: it is serving (stderr: %s)", strings.Join(args, " "), errb.String())
		return 0, "", ""
	}
}

// Every subcommand answers -h and --help with its own help on stdout and exit 0, and does
// nothing else: start does not start a server, ca is not a usage error.
func TestHelpForEveryCommand(t *testing.T) {
	t.Setenv("AZVCR_CA_DIR", t.TempDir())
	t.Setenv("ASPNETCORE_URLS", "http://127.0.0.1:0") // were start to serve, not on test-proxy's ports
	cases := []struct {
		args []string
		want string // the start of the help
	}{
		{[]string{"start", "-h"}, "usage: azvcr start"},
		{[]string{"start", "--help"}, "usage: azvcr start"},
		{[]string{"start", "--storage-location", ".", "-h"}, "usage: azvcr start"},
		{[]string{"ca", "-h"}, "usage: azvcr ca init"},
		{[]string{"ca", "--help"}, "usage: azvcr ca init"},
		{[]string{"ca", "init", "-h"}, "usage: azvcr ca init"},
		{[]string{"ca", "path", "--help"}, "usage: azvcr ca init"},
		{[]string{"lint", "-h"}, "usage: azvcr lint"},
		{[]string{"convert", "-h"}, "usage: azvcr convert"},
		{[]string{"convert", "a.json", "b.yaml", "--help"}, "usage: azvcr convert"},
		{[]string{"restore", "-h"}, "usage: azvcr restore"},
		{[]string{"restore", "--help"}, "usage: azvcr restore"},
		{[]string{"version", "-h"}, "usage: azvcr version"},
		{[]string{"record", "-h"}, "usage: azvcr record"},
		{[]string{"replay", "--help"}, "usage: azvcr replay"},
		{[]string{"auto", "-h"}, "usage: azvcr auto"},
		{[]string{"passthrough", "-h"}, "usage: azvcr passthrough"},
		{[]string{"help", "start"}, "usage: azvcr start"},
		{[]string{"help"}, "azvcr records Azure Cosmos DB"},
		{[]string{"--help"}, "azvcr records Azure Cosmos DB"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errb := runReturns(t, c.args...)
			if code != exitOK || !strings.HasPrefix(out, c.want) {
				t.Errorf("exit %d, stdout %.80q; want 0 and %q (stderr %q)", code, out, c.want, errb)
			}
			if strings.Contains(out+errb, "Now listening") {
				t.Error("help started a server")
			}
		})
	}
	for _, mode := range []string{"record", "replay", "auto", "passthrough"} {
		if h := commandHelp[mode]; !strings.Contains(h, "--max-body-size") || !strings.Contains(h, "--cassette FILE") {
			t.Errorf("%s help lacks the proxy flags", mode)
		}
	}
	if code, _, errb := runReturns(t, "help", "frobnicate"); code != exitUsage || !strings.Contains(errb, `unknown command "frobnicate"`) {
		t.Errorf("help of an unknown command: %d %q", code, errb)
	}
}

// record refuses a cassette holding interactions, with a message naming --overwrite, and leaves
// it as it was; convert refuses an existing OUT the same way.
func TestCommandsNeverDestroyACassette(t *testing.T) {
	dir := t.TempDir()
	cas := filepath.Join(dir, "kept.yaml")
	if err := cassette.Save(cas, &cassette.Cassette{Interactions: cassettetest.WithIDs(cassettetest.SampleInteractions(t))}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(cas)
	code, _, errb := runReturns(t, "record", "--cassette", cas, "--listen", "127.0.0.1:0", "--ca-dir", filepath.Join(dir, "ca"))
	if n := len(cassettetest.SampleInteractions(t)); code != exitUsage || !strings.Contains(errb, fmt.Sprintf("already holds %d recorded interactions", n)) || !strings.Contains(errb, "--overwrite") {
		t.Errorf("record over a cassette: exit %d, stderr %q", code, errb)
	}
	notCassette := filepath.Join(dir, "main.go")
	os.WriteFile(notCassette, []byte("package main\n"), 0o644)
	if code, _, errb := runReturns(t, "record", "--cassette", notCassette, "--ca-dir", filepath.Join(dir, "ca")); code != exitUsage || !strings.Contains(errb, "is not a cassette") {
		t.Errorf("record over a file that is no cassette: exit %d, stderr %q", code, errb)
	}

	// --overwrite starts; a run that records nothing leaves the old cassette whole.
	cmd, _, stderr := startBinary(t, "record", "--overwrite", "--cassette", cas, "--listen", "127.0.0.1:0", "--ca-dir", filepath.Join(dir, "ca"))
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("record --overwrite: %v\n%s", err, stderr)
	}
	if after, _ := os.ReadFile(cas); !bytes.Equal(after, before) {
		t.Errorf("record --overwrite that recorded nothing changed the cassette")
	}

	out := filepath.Join(dir, "out.json")
	os.WriteFile(out, []byte(`{"Entries":[]}`), 0o644)
	if code, _, errb := convert(t, cas, out); code != exitUsage || !strings.Contains(errb, "already exists; give --overwrite") {
		t.Errorf("convert over an existing file: exit %d, stderr %q", code, errb)
	}
	if code, _, errb := convert(t, cas, out, "--overwrite"); code != exitOK {
		t.Errorf("convert --overwrite: exit %d, stderr %q", code, errb)
	}
}

// --max-body-size is a flag of the proxy modes: a request body over it gets 413 naming it.
func TestMaxBodySizeFlag(t *testing.T) {
	dir := t.TempDir()
	if code, _, errb := runReturns(t, "replay", "--max-body-size", "lots", "--cassette", "x.yaml"); code != exitUsage || !strings.Contains(errb, "want bytes, or a number with KiB") {
		t.Errorf("bad size: exit %d, stderr %q", code, errb)
	}
	cas := filepath.Join(dir, "c.yaml")
	if err := cassette.Save(cas, &cassette.Cassette{Interactions: cassettetest.WithIDs(cassettetest.SampleInteractions(t))}); err != nil {
		t.Fatal(err)
	}
	cmd, env, stderr := startBinary(t, "replay", "--max-body-size", "1KiB", "--cassette", cas, "--listen", "127.0.0.1:0", "--ca-dir", filepath.Join(dir, "ca"))
	defer func() { cmd.Process.Signal(syscall.SIGINT); cmd.Wait() }()
	resp, err := clientFromEnv(t, env).Post("https://acct.documents.azure.com/dbs/d/colls/c/docs", "application/json", strings.NewReader(strings.Repeat("x", 4<<10)))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "larger than 1 KiB") || !strings.Contains(string(body), "--max-body-size") {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
}

func TestParseListenURL(t *testing.T) {
	cases := []struct {
		raw, addr, shown string
		loopback         bool
	}{
		{"http://localhost:5000", "127.0.0.1:5000", "localhost", true},
		{"https://LOCALHOST:0", "127.0.0.1:0", "LOCALHOST", true},
		{"http://127.0.0.1:5000", "127.0.0.1:5000", "127.0.0.1", true},
		{"http://[::1]:5000", "[::1]:5000", "::1", true},
		{"http://*:5000", ":5000", "::", false},
		{"http://+:5000", ":5000", "::", false},
		{"http://:5000", ":5000", "::", false},
		{"http://0.0.0.0:0", "0.0.0.0:0", "0.0.0.0", false},
		{"http://[::]:5000", "[::]:5000", "::", false},
		{"HTTP://box.example:5000/", "box.example:5000", "box.example", false},
	}
	for _, c := range cases {
		b, err := parseListenURL(c.raw)
		if err != nil || b.addr != c.addr || b.shown != c.shown || b.loopback != c.loopback {
			t.Errorf("%s: %+v, %v", c.raw, b, err)
		}
	}
	for _, bad := range []string{"localhost:5000", "ftp://h:1", "http://h", "http://h:port", "http://h:70000"} {
		if _, err := parseListenURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// azvcr start listens on every interface for ASP.NET's wildcard URLs and the unspecified
// address, with the warning the README promises; on loopback alone it answers only requests
// that name a loopback host (no DNS rebinding).
func TestStartListenAddresses(t *testing.T) {
	for _, tc := range []struct {
		url     string
		line    string // the Now listening on line, port aside
		warning bool
	}{
		{"http://*:0", "http://[::]:", true},
		{"http://+:0", "http://[::]:", true},
		{"http://0.0.0.0:0", "http://0.0.0.0:", true},
		{"http://localhost:0", "http://localhost:", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			s := startTestProxy(t, "--storage-location", t.TempDir(), "--", "--urls="+tc.url)
			if !strings.HasPrefix(s.listening, tc.line) {
				t.Errorf("listening on %q, want %s<port>", s.listening, tc.line)
			}
			if got := strings.Contains(s.stderr.String(), "WARNING: listening on"); got != tc.warning {
				t.Errorf("warning %v, want %v; stderr %s", got, tc.warning, s.stderr.String())
			}
			alive := func(host string) int {
				req, _ := http.NewRequest("GET", "http://127.0.0.1:"+s.port+"/Admin/IsAlive", nil)
				req.Host = host
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if code := alive("localhost:" + s.port); code != http.StatusOK {
				t.Errorf("Host localhost: %d", code)
			}
			want := http.StatusForbidden
			if tc.warning {
				want = http.StatusOK // listening beyond loopback: reached by any name
			}
			if code := alive("attacker.example:" + s.port); code != want {
				t.Errorf("Host attacker.example: %d, want %d", code, want)
			}
		})
	}
}

type testProxyRun struct {
	listening, port string
	stderr          *syncWriter
}

func startTestProxy(t *testing.T, args ...string) *testProxyRun {
	t.Helper()
	cmd := exec.Command(azvcrBin, append([]string{"start"}, args...)...)
	cmd.Env = append(os.Environ(), "AZVCR_CA_DIR="+t.TempDir())
	stderr := &syncWriter{w: &bytes.Buffer{}}
	cmd.Stderr = stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGINT); cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), "Now listening on: "); ok {
				lines <- l
			}
		}
		close(lines)
	}()
	l, ok := <-lines
	if !ok {
		t.Fatalf("azvcr start never listened; stderr: %s", stderr.String())
	}
	m := regexp.MustCompile(`:(\d+)$`).FindStringSubmatch(l)
	if m == nil {
		t.Fatalf("listening line %q names no port", l)
	}
	if _, err := net.Dial("tcp", "127.0.0.1:"+m[1]); err != nil {
		t.Fatalf("not reachable on 127.0.0.1:%s: %v", m[1], err)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(stderr.String(), "recordings under"); {
		if time.Now().After(deadline) { // what start says once every listener is up
			t.Fatalf("azvcr start did not finish starting; stderr: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &testProxyRun{listening: l, port: m[1], stderr: stderr}
}
