package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/upstream"
	"github.com/azvcr/azvcr/forwardproxy"
)

// jsFlow is the Node script that drives the real JavaScript SDK (@azure/cosmos) through azvcr.
var jsFlow = filepath.Join("..", "fixtures", "jsflow", "flow.js")

// jsReplays is how many times the recording is replayed, each to a fresh node process.
const jsReplays = 20

// jsResult is the document flow.js prints.
type jsResult struct {
	SDK          string     `json:"sdk"`
	Upserted     int        `json:"upserted"`
	OrderedPages [][]string `json:"orderedPages"`
	ParamQuery   []struct {
		ID string `json:"id"`
		N  int    `json:"n"`
	} `json:"paramQuery"`
	ChangeFeed [][]string `json:"changeFeed"`
}

// requireJSDeps fails (never skips) when node or the npm packages flow.js needs are missing.
func requireJSDeps(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not on PATH (%v): install Node.js 20 and run `make deps`", err)
	}
	for _, pkg := range []string{"@azure/cosmos", "https-proxy-agent", "@vercel/cosmosdb-server"} {
		if _, err := os.Stat(filepath.Join(upstream.Dir(), "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("npm package %s is not installed in %s: run `make deps` (npm ci from the lockfile)", pkg, upstream.Dir())
		}
	}
}

// runJSFlow runs flow.js through srv and returns its stdout; stderr is returned with any error.
func runJSFlow(endpoint string, srv *forwardproxy.Server, extraEnv ...string) (stdout []byte, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", jsFlow)
	env := []string{
		"COSMOS_ENDPOINT=" + endpoint,
		"HTTPS_PROXY=" + srv.URL(),
		"NODE_EXTRA_CA_CERTS=" + srv.CA().CertPath,
	}
	env = append(env, extraEnv...)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "COSMOS_ENDPOINT", "COSMOS_KEY", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "NODE_EXTRA_CA_CERTS",
			"NODE_TLS_REJECT_UNAUTHORIZED", "NODE_OPTIONS":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.String(), err
}

// checkJSResult checks the recorded run read what the workload wrote. cosmosdb-server ignores the
// partition key header on queries and feeds, so the change feed of one partition key holds every
// item: only the partition's own items are required.
func checkJSResult(t *testing.T, out []byte) {
	t.Helper()
	var res jsResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("flow.js output is not JSON: %v\n%s", err, out)
	}
	partitions := []string{"tenant-a", "tenant-b", "tenant-c"}
	const perPartition, pageSize, minN = 8, 4, 10
	if res.Upserted != len(partitions)*perPartition {
		t.Errorf("upserted %d items, want %d", res.Upserted, len(partitions)*perPartition)
	}
	var want, got []string
	for n := 0; n < len(partitions)*perPartition; n++ {
		want = append(want, fmt.Sprintf("%s-%02d", partitions[n%len(partitions)], n/len(partitions)))
	}
	for i, p := range res.OrderedPages {
		if len(p) == 0 || len(p) > pageSize {
			t.Errorf("ORDER BY page %d has %d items, want 1..%d", i+1, len(p), pageSize)
		}
		got = append(got, p...)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ORDER BY c.n read\n%v\nwant\n%v", got, want)
	}
	var param []string
	for _, it := range res.ParamQuery {
		if it.N < minN || !strings.HasPrefix(it.ID, "tenant-b-") {
			t.Errorf("parameterised query returned %s (n=%d), want tenant-b items with n >= %d", it.ID, it.N, minN)
		}
		param = append(param, it.ID)
	}
	if len(param) != 5 {
		t.Errorf("parameterised query returned %v, want the 5 tenant-b items with n >= %d", param, minN)
	}
	feed := map[string]bool{}
	for _, p := range res.ChangeFeed {
		for _, id := range p {
			feed[id] = true
		}
	}
	for i := 0; i < perPartition; i++ {
		if id := fmt.Sprintf("tenant-b-%02d", i); !feed[id] {
			t.Errorf("change feed of tenant-b lacks %s (read %d pages)", id, len(res.ChangeFeed))
		}
	}
}

// TestJSSDKRecordThenReplay records the real JavaScript SDK (@azure/cosmos, through
// https-proxy-agent) against cosmosdb-server, stops the server, and replays the recording to
// fresh node processes: every run must print what the recorded run printed, with no misses.
func TestJSSDKRecordThenReplay(t *testing.T) {
	requireJSDeps(t)
	dir := t.TempDir()
	up, err := upstream.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Stop()
	u, err := url.Parse(up.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	// The client is given localhost; the account read names https://127.0.0.1:PORT/ as the write
	// and read location, so the SDK moves there: the regional-endpoint case.
	endpoint := "https://localhost:" + u.Port() + "/"
	regional := "127.0.0.1:" + u.Port()
	ca := newCA(t)
	cassettePath := filepath.Join(dir, "js.yaml")

	var recLog logBuffer
	rec := startProxy(t, engine.Record, ca, forwardproxy.WithCassette(cassettePath), forwardproxy.WithUpstreamCA(up.CAFile),
		forwardproxy.WithLogger(warnLogger(&recLog)))
	recorded, stderr, err := runJSFlow(endpoint, rec)
	if err != nil {
		t.Fatalf("flow.js through azvcr record: %v\nstderr:\n%s\nazvcr warnings:\n%s", err, stderr,
			strings.Join(recLog.lines(""), "\n"))
	}
	checkJSResult(t, recorded)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	sum := rec.Summary()
	t.Logf("record: %s", sum)
	up.Stop()

	c, err := cassette.Load(cassettePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != sum.Recorded {
		t.Fatalf("cassette holds %d interactions, recorder wrote %d", len(c.Interactions), sum.Recorded)
	}
	hosts := map[string]int{}
	for _, it := range c.Interactions {
		if ru, err := url.Parse(it.Request.URL); err == nil {
			hosts[ru.Host]++
		}
	}
	t.Logf("recorded requests per host: %v", hosts)
	if hosts["localhost:"+u.Port()] == 0 || hosts[regional] == 0 {
		t.Errorf("cassette hosts %v: want requests to both %s (given endpoint) and %s (account location)",
			hosts, "localhost:"+u.Port(), regional)
	}

	misses := map[string]int{} // explanation -> runs it occurred in
	for run := 1; run <= jsReplays; run++ {
		var playLog logBuffer
		play := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(cassettePath), forwardproxy.WithLogger(warnLogger(&playLog)))
		out, stderr, err := runJSFlow(endpoint, play)
		play.Close()
		s := play.Summary()
		for _, l := range playLog.lines("no recording") {
			misses[l]++
		}
		if err != nil {
			t.Errorf("replay run %d: flow.js: %v\nstderr:\n%s", run, err, stderr)
		} else if !bytes.Equal(out, recorded) {
			t.Errorf("replay run %d printed something else\nrecorded:\n%s\nreplayed:\n%s", run, recorded, out)
		}
		if s.Misses != 0 {
			t.Errorf("replay run %d: %s, want no misses", run, s)
		}
		if s.Unused != 0 {
			t.Logf("replay run %d: %s", run, s)
		}
	}

	// Signatures: @azure/cosmos signing with the emulator key passes azvcr's check; with another
	// key it gets Cosmos DB's 401.
	good := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(cassettePath), forwardproxy.WithSignatureCheck(engine.EmulatorKey))
	if out, stderr, err := runJSFlow(endpoint, good); err != nil || !bytes.Equal(out, recorded) {
		t.Errorf("replay with signature check: %v\nstderr:\n%s", err, stderr)
	}
	good.Close()
	bad := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(cassettePath), forwardproxy.WithSignatureCheck(engine.EmulatorKey))
	const otherKey = "dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw=="
	if _, stderr, err := runJSFlow(endpoint, bad, "COSMOS_KEY="+otherKey); err == nil || !strings.Contains(stderr, `"code":"Unauthorized"`) {
		t.Errorf("@azure/cosmos with a wrong key: err %v, stderr:\n%s\nwant a 401 failure", err, stderr)
	}
	if s := bad.Summary(); s.Replayed != 0 {
		t.Errorf("wrong key still replayed: %s", s)
	}

	if len(misses) > 0 {
		var ls []string
		for l, n := range misses {
			ls = append(ls, fmt.Sprintf("[%d of %d runs] %s", n, jsReplays, l))
		}
		sort.Strings(ls)
		t.Errorf("replay misses (azvcr warnings, verbatim):\n%s", strings.Join(ls, "\n"))
	}
}
