package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/cosmosflow"
	"github.com/azvcr/azvcr/fixtures/fakearm"
	"github.com/azvcr/azvcr/fixtures/upstream"
	"github.com/azvcr/azvcr/forwardproxy"
	"github.com/azvcr/azvcr/internal/gitleaks"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/secrets"
)

// TestPlantedSecretsNeverReachTheCassette records, through one azvcr with the default rules,
// secrets planted everywhere a recording can carry one: the real azcosmos client against the
// Cosmos upstream (custom and auxiliary headers, a document with keys, signatures, tokens and a
// client secret in escaped and arbitrary fields), the real armcosmos and azidentity clients
// against fakearm (client secret, token, keys, connection strings, cookies), and crafted
// requests for what no real client or server here does (.NET escapes, forms without a
// Content-Type, gzip and binary bodies, SAS URLs in bodies and headers, query strings). No
// secret may be in the cassette in any encoding, lint and gitleaks find nothing there, lint
// flags every line gitleaks flags in the unredacted exchanges, and the cassette replays.
func TestPlantedSecretsNeverReachTheCassette(t *testing.T) {
	p := newPlantedValues()
	dir := t.TempDir()
	up, err := upstream.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Stop()
	sec := fakearm.NewSecrets()
	fake, err := fakearm.Start(dir, sec)
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	crafted := startCraftedUpstream(t, p)
	routes := []forwardproxy.Option{
		forwardproxy.WithUpstreamCA(up.CAFile), forwardproxy.WithUpstreamCA(fake.CAFile), forwardproxy.WithUpstreamCA(crafted.caFile),
		forwardproxy.WithResolve(fakearm.ARMHost, fake.Addr), forwardproxy.WithResolve(fakearm.LoginHost, fake.Addr),
		forwardproxy.WithResolve(blobHost, crafted.addr()), forwardproxy.WithResolve(busHost, crafted.addr()),
		forwardproxy.WithResolve(craftedHost, crafted.addr()), forwardproxy.WithAllowedHosts(blobHost, busHost),
	}
	ca := newCA(t)
	path := filepath.Join(dir, "planted.yaml")
	raw := &captureRule{}
	rec := startProxy(t, engine.Record, ca, append(routes, forwardproxy.WithCassette(path),
		forwardproxy.WithRedactor(append(redact.Redactor{raw}, redact.DefaultRules()...)))...)

	recordedDoc := plantedCosmos(t, rec, up.Endpoint, p["K0 master key"], p)
	recordedARM, _, err := runARMFlow(rec, sec.TenantID, sec.ClientID, sec.ClientSecret, sec.SubscriptionID)
	if err != nil {
		t.Fatalf("ARM flow: %v", err)
	}
	recordedStatuses := sendCrafted(t, clientVia(rec), craftedRequests(p))
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	data, c := readCassette(t, path)
	planted := plantedList(p, sec)
	leaks := findLeaks(data, c, planted)
	for _, l := range leaks {
		t.Errorf("LEAK %s", l)
	}
	lines := strings.Split(string(data), "\n")
	for _, f := range secrets.Lint(path, data) {
		t.Errorf("azvcr lint: %s in %.300s", f, lines[f.Line-1])
	}
	found, err := gitleaks.Scan(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("%s", f)
	}
	forms := 0
	for _, s := range planted {
		forms += len(encodings(s.value))
	}
	t.Logf("%d planted values (%d in Cosmos and crafted places, %d from the ARM flow), %d forms searched in %d interactions: %d leaks",
		len(planted), len(p), len(planted)-len(p), forms, len(c.Interactions), len(leaks))
	checkOnlySecretsChanged(t, raw.cassette(), c, planted)

	checkLintCoversGitleaks(t, filepath.Join(dir, "unredacted.yaml"), raw.cassette())
	checkProbesAgree(t, path, raw.cassette().Interactions)

	// Replay with other credentials and no upstream at all.
	up.Stop()
	fake.Close()
	crafted.srv.Close()
	play := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(path), forwardproxy.WithAllowedHosts(blobHost, busHost))
	replayedDoc := plantedCosmos(t, play, up.Endpoint, randomKey(t), p)
	if replayedDoc["id"] != "planted-1" || replayedDoc["pk"] != "p1" || replayedDoc["partitionKey"] != "p1" || replayedDoc["note"] != redact.Redacted {
		t.Errorf("replayed document: %v (recorded %v)", replayedDoc, recordedDoc)
	}
	replayedARM, misses, err := runARMFlow(play, sec.TenantID, sec.ClientID, fakearm.NewSecrets().ClientSecret, sec.SubscriptionID)
	if err != nil || len(misses) > 0 {
		t.Fatalf("ARM replay: %v, misses %v", err, misses)
	}
	checkSameShape(t, recordedARM, replayedARM)
	if got := sendCrafted(t, clientVia(play), craftedRequests(p)); strings.Join(got, ",") != strings.Join(recordedStatuses, ",") {
		t.Errorf("crafted replay statuses %v, recorded %v", got, recordedStatuses)
	}
	if s := play.Summary(); s.Misses != 0 {
		t.Errorf("replay: %s", s)
	}
}

// plantedCosmos creates and reads back a document full of secrets with azcosmos, sending
// secrets in headers too, and runs a query with a secret parameter. It returns the document
// as read.
func plantedCosmos(t *testing.T, srv *forwardproxy.Server, endpoint, masterKey string, p plantedValues) map[string]any {
	t.Helper()
	cred, err := azcosmos.NewKeyCredential(masterKey)
	if err != nil {
		t.Fatal(err)
	}
	headers := headerPolicy{
		"X-Ms-Cosmos-Custom-Key":       p["K1 key in x-ms-cosmos header"],
		"X-Api-Key":                    p["A1 X-Api-Key"],
		"X-Ms-Authorization-Auxiliary": "Bearer " + p["J1 auxiliary token 1"] + ", Bearer " + p["J2 auxiliary token 2"],
	}
	client, err := azcosmos.NewClientWithKey(endpoint, cred, &azcosmos.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: clientVia(srv), Retry: policy.RetryOptions{MaxRetries: -1}, PerCallPolicies: []policy.Policy{headers},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := cosmosflow.CreateContainer(ctx, client, "planted", "docs")
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"id":"planted-1","pk":"p1","partitionKey":"p1","note":"` + dotnetEscape(p["K2 key in a document (\\u002B, \\/)"]) + `",` +
		`"conn":"AccountEndpoint=https:\/\/a.documents.azure.com:443\/;AccountKey\u003d` + dotnetEscape(p["K3 AccountKey\\u003d in a document"]) + `;",` +
		`"sas":"https://` + blobHost + `/c/b?sv=2022-11-02&sr=b&sig=` + url.QueryEscape(p["S1 SAS sig in a document"]) + `",` +
		`"jwt":"` + p["J3 JWT in a document"] + `","clientSecret":"` + p["C1 clientSecret in a document"] + `",` +
		`"nested":{"deep":[{"x":"` + p["K4 key deep in a document"] + `"}]},"emoji":"\ud83d\ude00` + p["K5 key beside surrogate pairs"] + `\ud83d\ude00"}`
	pk := azcosmos.NewPartitionKeyString("p1")
	if _, err := c.CreateItem(ctx, pk, []byte(doc), nil); err != nil {
		t.Fatalf("create item: %v", err)
	}
	read, err := c.ReadItem(ctx, pk, "planted-1", nil)
	if err != nil {
		t.Fatalf("read item: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(read.Value, &got); err != nil {
		t.Fatal(err)
	}
	pager := c.NewQueryItemsPager("SELECT * FROM c WHERE c.note = @k", pk, &azcosmos.QueryOptions{
		QueryParameters: []azcosmos.QueryParameter{{Name: "@k", Value: p["K2 key in a document (\\u002B, \\/)"]}},
	})
	for pager.More() {
		if _, err := pager.NextPage(ctx); err != nil {
			t.Fatalf("query: %v", err)
		}
	}
	return got
}

// headerPolicy adds headers to every request.
type headerPolicy map[string]string

func (h headerPolicy) Do(req *policy.Request) (*http.Response, error) {
	for k, v := range h {
		req.Raw().Header.Set(k, v)
	}
	return req.Next()
}

// plantedList is every planted value with the name of its place, the ARM flow's included.
func plantedList(p plantedValues, sec fakearm.Secrets) []planted {
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []planted
	for _, n := range names {
		out = append(out, planted{name: n, value: p[n]})
	}
	for _, s := range plantedSecrets(sec) {
		s.name = "ARM " + s.name
		out = append(out, s)
	}
	master, _ := base64.StdEncoding.DecodeString(p["K0 master key"])
	return append(out, planted{name: "K0 master key bytes", value: string(master)})
}

// captureRule keeps each exchange as it was before redaction: the unredacted corpus on which
// lint is compared with gitleaks. It goes first in the redactor.
type captureRule struct {
	mu  sync.Mutex
	its []*cassette.Interaction
}

func (*captureRule) Name() string { return "capture" }

func (c *captureRule) RedactRequest(r *cassette.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *r
	cp.Headers = r.Headers.Clone()
	c.its = append(c.its, &cassette.Interaction{ID: len(c.its), Request: cp})
}

func (c *captureRule) RedactResponse(r *cassette.Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *r
	cp.Headers = r.Headers.Clone()
	c.its[len(c.its)-1].Response = cp
}

func (c *captureRule) cassette() *cassette.Cassette {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &cassette.Cassette{Version: cassette.Version, Interactions: c.its}
}

// checkLintCoversGitleaks writes the unredacted exchanges as a cassette and checks that lint
// reports a finding on every line where gitleaks reports one.
func checkLintCoversGitleaks(t *testing.T, path string, c *cassette.Cassette) {
	t.Helper()
	if err := cassette.Save(path, c); err != nil {
		t.Fatal(err)
	}
	found, err := gitleaks.Scan(path)
	if err != nil {
		t.Fatal(err)
	}
	lint, err := secrets.LintFile(path)
	if err != nil {
		t.Fatal(err)
	}
	linted := map[int]bool{}
	for _, f := range lint {
		linted[f.Line] = true
	}
	rules := map[string]int{}
	covered := 0
	for _, g := range found {
		rules[g.RuleID]++
		ok := false
		for l := g.StartLine; l <= max(g.EndLine, g.StartLine); l++ {
			ok = ok || linted[l]
		}
		if ok {
			covered++
		} else {
			t.Errorf("gitleaks flags what lint does not: %s", g)
		}
	}
	if len(found) < 10 {
		t.Errorf("gitleaks found only %d secrets in the unredacted exchanges: is it reading the file?", len(found))
	}
	t.Logf("unredacted corpus (%d interactions): gitleaks %d findings %v, all %d on lines lint flags; lint %d findings on %d lines",
		len(c.Interactions), len(found), rules, covered, len(lint), len(linted))
}

// checkOnlySecretsChanged: the Cosmos documents and ARM bodies on disk are the bodies the
// services sent with the planted secrets (as the service wrote them) replaced by REDACTED and the
// subscription and tenant ids by the zero GUID, and nothing else changed: ids, partition keys,
// _rid, _self, _etag, _ts, keysMetadata and the rest keep their bytes.
func checkOnlySecretsChanged(t *testing.T, raw, recorded *cassette.Cassette, planted []planted) {
	t.Helper()
	if len(raw.Interactions) != len(recorded.Interactions) {
		t.Fatalf("%d exchanges captured, %d recorded", len(raw.Interactions), len(recorded.Interactions))
	}
	var pairs []string
	for _, s := range planted {
		with := redact.Redacted
		if s.guid {
			with = zeroGUID
			pairs = append(pairs, strings.ToUpper(s.value), with)
		}
		pairs = append(pairs, s.value, with, url.QueryEscape(s.value), with)
	}
	expect := strings.NewReplacer(pairs...)
	compared := 0
	for i, it := range raw.Interactions {
		u, _ := url.Parse(it.Request.URL)
		if u == nil || (u.Host != fakearm.ARMHost && u.Host != fakearm.LoginHost && u.Hostname() != "127.0.0.1") || !json.Valid([]byte(it.Response.Body)) {
			continue
		}
		compared++
		if want, got := expect.Replace(it.Response.Body), recorded.Interactions[i].Response.Body; got != want {
			t.Errorf("#%d %s %s: the body changed beyond its secrets:\n got  %s\n want %s", i, it.Request.Method, u.Path, got, want)
		}
	}
	if compared < 10 {
		t.Errorf("only %d Cosmos and ARM JSON bodies compared", compared)
	}
	t.Logf("%d Cosmos and ARM JSON bodies on disk equal what the services sent, secrets aside", compared)
}

// opaqueRule is a rule redact cannot see into: with it first, replay redacts each live request
// whole, as it did before matching left out the headers it does not read.
type opaqueRule struct{}

func (opaqueRule) Name() string                      { return "opaque" }
func (opaqueRule) RedactRequest(*cassette.Request)   {}
func (opaqueRule) RedactResponse(*cassette.Response) {}

// checkProbesAgree replays the unredacted requests through two engines over the cassette: one
// that redacts only what matching reads (and what redact says it must keep), one that redacts
// each request whole. Every answer must be the same.
func checkProbesAgree(t *testing.T, path string, raw []*cassette.Interaction) {
	t.Helper()
	open := func(r redact.Redactor) *engine.Engine {
		e, err := engine.Open(engine.Replay, path, matcher.RepeatMetadata, engine.WithRedactor(r))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	fast, whole := open(redact.DefaultRules()), open(append(redact.Redactor{opaqueRule{}}, redact.DefaultRules()...))
	hits := 0
	for _, it := range raw {
		answer := func(e *engine.Engine) (int, string, string) {
			r := it.Request
			req, err := http.NewRequest(r.Method, r.URL, strings.NewReader(r.Body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header, req.Host = r.Headers.Clone(), r.Host
			resp := e.Handle(req)
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header.Get(engine.MissHeader), string(body)
		}
		fc, fm, fb := answer(fast)
		wc, wm, wb := answer(whole)
		if fc != wc || fm != wm || fb != wb {
			t.Errorf("%s %s: answered %d %q when redacted for matching, %d %q when redacted whole", it.Request.Method, it.Request.URL, fc, fm, wc, wm)
		}
		if fc != engine.MissStatus {
			hits++
		}
	}
	if hits < len(raw)/2 {
		t.Errorf("only %d of %d unredacted requests found their recordings", hits, len(raw))
	}
}
