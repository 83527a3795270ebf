package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/fakearm"
	"github.com/azvcr/azvcr/fixtures/upstream"
	"github.com/azvcr/azvcr/forwardproxy"
	"github.com/azvcr/azvcr/secrets"
)

// python is Debian's interpreter, with Debian's Azure SDK packages (make deps installs them).
const python = "/usr/bin/python3"

var pyFlowDir = filepath.Join("..", "fixtures", "pyflow")

// pyReplays is how many times each Python recording is replayed, each to a fresh interpreter.
const pyReplays = 3

// requirePython fails (never skips) when the interpreter or an SDK package is missing.
func requirePython(t *testing.T, modules ...string) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("%s is missing: run `make deps` (installs Debian's python3-azure-cosmos and python3-azure)", python)
	}
	out, err := exec.Command(python, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput()
	if err != nil {
		t.Fatalf("%s cannot import %s: %v\n%s\nrun `make deps` (installs Debian's python3-azure-cosmos and python3-azure)",
			python, strings.Join(modules, ", "), err, out)
	}
}

// runPython runs a flow script with only env steering it; stderr comes back with any error.
func runPython(timeout time.Duration, script string, env ...string) (stdout []byte, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join(pyFlowDir, script))
	cmd.Env = append(cleanPythonEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.String(), err
}

// cleanPythonEnv is the environment less what steers a Python client or the Azure CLI.
func cleanPythonEnv() []string {
	var out []string
	for _, kv := range cleanEnv() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "PYTHONPATH", "PYTHONHOME", "COSMOS_ENDPOINT", "COSMOS_KEY", "AZURE_CONFIG_DIR":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// finishClean is finish, then the leak search for every planted secret and azvcr lint over the
// cassette: any finding fails the test.
func (fr fakeRecording) finishClean(t *testing.T) (engine.Summary, *cassette.Cassette) {
	t.Helper()
	sum, _, data, c := fr.finish(t)
	for _, l := range findLeaks(data, c, plantedSecrets(fr.sec)) {
		t.Errorf("LEAK %s", l)
	}
	for _, f := range secrets.Lint(fr.cassette, data) {
		t.Errorf("azvcr lint: %s", f)
	}
	return sum, c
}

// viaProxyEnv is the whole configuration a Python client gets to go through azvcr.
func viaProxyEnv(srv *forwardproxy.Server) []string {
	return []string{"HTTPS_PROXY=" + srv.URL(), "REQUESTS_CA_BUNDLE=" + srv.CA().CertPath}
}

type pyCosmosResult struct {
	Upserted            int        `json:"upserted"`
	ParamPages          [][]string `json:"paramPages"`
	CrossPartitionPages [][]string `json:"crossPartitionPages"`
	AfterDelete         [][]string `json:"afterDelete"`
	Remaining           int        `json:"remaining"`
}

// checkPyCosmos checks the direct run read everything: every page of the paged queries (the
// continuation was followed to the end), the delete seen.
func checkPyCosmos(t *testing.T, out []byte) {
	t.Helper()
	var r pyCosmosResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("cosmos_flow.py output is not JSON: %v\n%s", err, out)
	}
	count := func(pages [][]string) (n int) {
		for _, p := range pages {
			n += len(p)
		}
		return n
	}
	// pk p1 holds n = 1, 4, 7, ... 28: nine with n >= 4, three to a page; n >= 20 is ten items.
	if len(r.ParamPages) != 3 || count(r.ParamPages) != 9 {
		t.Errorf("parameterised query read %d items in %d pages, want 9 in 3: %v", count(r.ParamPages), len(r.ParamPages), r.ParamPages)
	}
	if count(r.CrossPartitionPages) != 10 || len(r.CrossPartitionPages) < 5 {
		t.Errorf("cross-partition query read %d items in %d pages, want 10 in at least 5: %v", count(r.CrossPartitionPages), len(r.CrossPartitionPages), r.CrossPartitionPages)
	}
	t.Logf("read %d items in %d pages (parameterised), %d in %d pages (cross-partition), %d left after the delete",
		count(r.ParamPages), len(r.ParamPages), count(r.CrossPartitionPages), len(r.CrossPartitionPages), r.Remaining)
	if r.Upserted != 30 || r.Remaining != 29 || count(r.AfterDelete) != 0 {
		t.Errorf("upserted %d, remaining %d, found after delete %v; want 30, 29, none", r.Upserted, r.Remaining, r.AfterDelete)
	}
}

// Python's azure-cosmos (Debian's python3-azure-cosmos) reads lower-case header names from a
// plain dict: through azvcr it must read what it reads directly, in record and in replay.
func TestPythonCosmosRecordThenReplay(t *testing.T) {
	requirePython(t, "azure.cosmos.cosmos_client")
	dir := t.TempDir()
	up, err := upstream.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Stop()
	endpoint := "COSMOS_ENDPOINT=" + up.Endpoint

	direct, stderr, err := runPython(2*time.Minute, "cosmos_flow.py", endpoint)
	if err != nil {
		t.Fatalf("cosmos_flow.py without azvcr: %v\n%s", err, stderr)
	}
	checkPyCosmos(t, direct)

	ca := newCA(t)
	cassettePath := filepath.Join(dir, "python-cosmos.yaml")
	var recLog logBuffer
	rec := startProxy(t, engine.Record, ca, forwardproxy.WithCassette(cassettePath), forwardproxy.WithUpstreamCA(up.CAFile),
		forwardproxy.WithLogger(warnLogger(&recLog)))
	recorded, stderr, err := runPython(2*time.Minute, "cosmos_flow.py", append(viaProxyEnv(rec), endpoint)...)
	if err != nil {
		t.Fatalf("cosmos_flow.py through azvcr record: %v\n%s\nazvcr warnings:\n%s", err, stderr, strings.Join(recLog.lines(""), "\n"))
	}
	if !bytes.Equal(recorded, direct) {
		t.Errorf("through azvcr record the flow read\n%s\nwithout azvcr\n%s", recorded, direct)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("record: %s", rec.Summary())
	up.Stop()

	for run := 1; run <= pyReplays; run++ {
		var playLog logBuffer
		play := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(cassettePath), forwardproxy.WithLogger(warnLogger(&playLog)))
		out, stderr, err := runPython(2*time.Minute, "cosmos_flow.py", append(viaProxyEnv(play), endpoint)...)
		play.Close()
		if err != nil {
			t.Errorf("replay run %d: %v\n%s", run, err, stderr)
		} else if !bytes.Equal(out, recorded) {
			t.Errorf("replay run %d read\n%s\nrecorded\n%s", run, out, recorded)
		}
		if s := play.Summary(); s.Misses != 0 {
			t.Errorf("replay run %d: %s, want no misses:\n%s", run, s, strings.Join(playLog.lines("no recording"), "\n"))
		}
	}
}

// pyARMEnv is the identity arm_flow.py runs as, with secret as its client secret.
func pyARMEnv(sec fakearm.Secrets, secret string) []string {
	return []string{"AZURE_TENANT_ID=" + sec.TenantID, "AZURE_CLIENT_ID=" + sec.ClientID, "AZURE_CLIENT_SECRET=" + secret,
		"AZURE_SUBSCRIPTION_ID=" + sec.SubscriptionID}
}

// flowTook reads the seconds arm_flow.py reports on stderr.
func flowTook(t *testing.T, stderr string) time.Duration {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		if s, ok := strings.CutPrefix(l, "flow took "); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return time.Duration(f * float64(time.Second))
			}
		}
	}
	t.Fatalf("arm_flow.py did not report its time:\n%s", stderr)
	return 0
}

// Python's azure-identity and azure-mgmt-cosmosdb against fakearm: directly, through azvcr
// recording (the same transcript, no planted secret in the cassette), and replayed with a wrong
// client secret and default pollers, quickly and with no misses.
func TestPythonARMRecordThenReplay(t *testing.T) {
	requirePython(t, "azure.identity", "azure.mgmt.cosmosdb")
	// Cosmos DB's provider sends no Retry-After, and Python pollers then wait 30 s: the fake asks
	// for short waits so the live runs stay quick; replay needs no such help (azvcr shapes LROs).
	fr := recordFakeARM(t, newCA(t), "python-arm.yaml", fakearm.WithRetryAfterMs(20))
	sec := fr.sec

	direct, stderr, err := runPython(2*time.Minute, "arm_flow.py",
		append(pyARMEnv(sec, sec.ClientSecret), "HTTPS_PROXY="+fr.fake.ProxyURL, "REQUESTS_CA_BUNDLE="+fr.fake.CAFile)...)
	if err != nil {
		t.Fatalf("arm_flow.py without azvcr: %v\n%s", err, stderr)
	}
	var res struct {
		Created, Got struct{ ProvisioningState string }
		Keys         map[string]bool
		SQLDatabase  struct{ Name string } `json:"sqlDatabase"`
		Deleted      bool
	}
	if err := json.Unmarshal(direct, &res); err != nil {
		t.Fatalf("arm_flow.py output: %v\n%s", err, direct)
	}
	if res.Created.ProvisioningState != "Succeeded" || res.Got.ProvisioningState != "Succeeded" || !res.Keys["primary"] ||
		res.SQLDatabase.Name != "appdb" || !res.Deleted {
		t.Fatalf("direct run read %s", direct)
	}

	recorded, stderr, err := runPython(2*time.Minute, "arm_flow.py", append(pyARMEnv(sec, sec.ClientSecret), viaProxyEnv(fr.rec)...)...)
	if err != nil {
		t.Fatalf("arm_flow.py through azvcr record: %v\n%s", err, stderr)
	}
	if !bytes.Equal(recorded, direct) {
		t.Errorf("through azvcr record the flow read\n%s\nwithout azvcr\n%s", recorded, direct)
	}
	sum, c := fr.finishClean(t)
	t.Logf("record: %s, %d interactions", sum, len(c.Interactions))

	wrong := fakearm.NewSecrets().ClientSecret
	for run := 1; run <= pyReplays; run++ {
		var playLog logBuffer
		play := startProxy(t, engine.Replay, fr.ca, forwardproxy.WithCassette(fr.cassette), forwardproxy.WithLogger(warnLogger(&playLog)))
		out, stderr, err := runPython(time.Minute, "arm_flow.py", append(pyARMEnv(sec, wrong), viaProxyEnv(play)...)...)
		play.Close()
		if err != nil {
			t.Errorf("replay run %d: %v\n%s", run, err, stderr)
			continue
		}
		if !bytes.Equal(out, recorded) {
			t.Errorf("replay run %d read\n%s\nrecorded\n%s", run, out, recorded)
		}
		took := flowTook(t, stderr)
		t.Logf("replay run %d: %s; flow took %s", run, play.Summary(), took)
		if took > 2*time.Second {
			t.Errorf("replay run %d took %s, want under 2 s with default pollers", run, took)
		}
		if s := play.Summary(); s.Misses != 0 {
			t.Errorf("replay run %d: %s, want no misses:\n%s", run, s, strings.Join(playLog.lines("no recording"), "\n"))
		}
	}
}
