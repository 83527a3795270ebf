package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/cosmosflow"
	"github.com/azvcr/azvcr/fixtures/upstream"
	"github.com/azvcr/azvcr/forwardproxy"

	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/secrets"
)

// hostRule is the documented way to keep an account's host name out of churn: every recording of
// the emulator on whatever port becomes cosmos.local:8081, consistently in URLs, headers and bodies
// (the account read advertises it, so replaying clients follow it).
const hostRule = `redact:
  rules:
    - name: emulator-host
      regex: '(127\.0\.0\.1|localhost):\d+'
      replace: cosmos.local:8081
`

func configRedactor(t testing.TB, yaml string) redact.Redactor {
	t.Helper()
	cfg, err := redact.ParseConfig("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	r, err := cfg.Redact.Redactor()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// recordFlow records cosmosflow against a fresh upstream, signing with key, and returns the
// cassette path and the flow's result.
func recordFlow(t *testing.T, key string, opts ...forwardproxy.Option) (string, *cosmosflow.Result) {
	t.Helper()
	dir := t.TempDir()
	up, err := upstream.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Stop()
	path := filepath.Join(dir, "flow.yaml")
	rec := startProxy(t, engine.Record, newCA(t), append([]forwardproxy.Option{forwardproxy.WithCassette(path), forwardproxy.WithUpstreamCA(up.CAFile)}, opts...)...)
	client, err := cosmosflow.NewClientWithKey(up.Endpoint, key, clientVia(rec))
	if err != nil {
		t.Fatal(err)
	}
	res, err := cosmosflow.Run(t.Context(), client)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return path, res
}

func randomKey(t testing.TB) string {
	b := make([]byte, 64)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// TestCosmosKeyNeverReachesTheCassette records with a freshly generated master key and searches
// every byte of the cassette for the key, its signatures and their encodings; then replays the
// cassette to a client holding another key.
func TestCosmosKeyNeverReachesTheCassette(t *testing.T) {
	key := randomKey(t)
	path, recorded := recordFlow(t, key)
	data, c := readCassette(t, path)
	raw, _ := base64.StdEncoding.DecodeString(key)
	for _, leak := range findLeaks(data, c, []planted{{name: "master key", value: key}, {name: "master key bytes", value: string(raw)}}) {
		t.Errorf("%s: %s", path, leak)
	}
	for _, f := range secrets.Lint(path, data) {
		t.Errorf("azvcr lint: %s", f)
	}
	if n := bytes.Count(data, []byte("sig%3DREDACTED")); n == 0 {
		t.Error("no redacted signature in the cassette: did the flow sign anything?")
	}
	if sigs := regexp.MustCompile(`sig(=|%3D)[A-Za-z0-9+/%]{20,}`).FindAll(data, -1); len(sigs) > 0 {
		t.Errorf("signatures reached the file: %d, first %.20s...", len(sigs), sigs[0])
	}

	// Replay needs no real credential: a client with a made-up key gets the recorded answers.
	endpoint, _ := cosmosflow.Endpoint(c)
	play := startProxy(t, engine.Replay, newCA(t), forwardproxy.WithCassette(path))
	client, err := cosmosflow.NewClientWithKey(endpoint, randomKey(t), clientVia(play))
	if err != nil {
		t.Fatal(err)
	}
	replayed, err := cosmosflow.Run(t.Context(), client)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(recorded, replayed) {
		t.Errorf("replay with a fake key differs:\n%s\n---\n%s", recorded, replayed)
	}
}

// Volatile values that are the data itself: cosmosdb-server (like Cosmos DB) issues a new _etag on
// every write and stamps _ts with the second; clients send etags back (If-Match), so they are kept.
var (
	etagField = regexp.MustCompile(`"_etag":"[^"]*"`)
	tsField   = regexp.MustCompile(`"_ts":\d+`)
)

// TestStableReRecordings records the same flow twice against fresh upstreams (different ports,
// keys, dates, activity ids) and shows the two cassettes differ only in _etag and _ts.
func TestStableReRecordings(t *testing.T) {
	a, _ := recordFlow(t, randomKey(t), forwardproxy.WithRedactor(configRedactor(t, hostRule)))
	b, _ := recordFlow(t, randomKey(t), forwardproxy.WithRedactor(configRedactor(t, hostRule)))
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	la, lb := strings.Split(string(da), "\n"), strings.Split(string(db), "\n")
	if len(la) != len(lb) {
		t.Fatalf("re-recording has %d lines, first recording %d", len(lb), len(la))
	}
	differing := 0
	for i := range la {
		if la[i] == lb[i] {
			continue
		}
		differing++
		ma, mb := maskData(la, i), maskData(lb, i)
		if ma != mb {
			t.Errorf("line %d differs beyond _etag/_ts:\n  %s\n  %s", i+1, la[i], lb[i])
		}
	}
	if regexp.MustCompile(`127\.0\.0\.1:\d`).Match(da) || !bytes.Contains(da, []byte("cosmos.local:8081")) {
		t.Error("the host rule did not apply")
	}
	t.Logf("%d of %d lines differ, all in _etag or _ts", differing, len(la))

	// The normalised cassette replays: a client pointed at the emulator on any port is matched as
	// cosmos.local:8081 and then follows the account read there.
	play := startProxy(t, engine.Replay, newCA(t), forwardproxy.WithCassette(a), forwardproxy.WithRedactor(configRedactor(t, hostRule)))
	checkFlowResult(t, runFlow(t, "https://localhost:9/", play))
	if s := play.Summary(); s.Misses != 0 {
		t.Errorf("replay of the normalised cassette: %s", s)
	}
}

// maskData blanks _etag and _ts in line i, and the value of an Etag header (the line after "Etag:").
func maskData(lines []string, i int) string {
	if i > 0 && strings.TrimSpace(lines[i-1]) == "Etag:" {
		return "etag header value"
	}
	return tsField.ReplaceAllString(etagField.ReplaceAllString(lines[i], `"_etag":*`), `"_ts":*`)
}
