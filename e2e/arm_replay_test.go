package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/armflow"
	"github.com/azvcr/azvcr/fixtures/fakearm"
	"github.com/azvcr/azvcr/forwardproxy"
)

// staticToken is a credential that always returns the same bearer token: fakearm's planted one
// when recording, anything in replay (Authorization is redacted and never matched).
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// lroOutcome is what a helper process reports about an LRO it ran.
type lroOutcome struct {
	State string `json:"state"`
	Ms    int64  `json:"ms"`
}

// recordAccountCreate records fakearm's account create through the forward proxy: the PUT, a
// status poll answering a state before Succeeded, one answering Succeeded, and the final read. The client polls
// every few milliseconds while recording; replay uses azcore's default 30 s interval.
func recordAccountCreate(t *testing.T, ca *certs.CA) (path string, sec fakearm.Secrets) {
	t.Helper()
	dir := t.TempDir()
	sec = fakearm.NewSecrets()
	fake, err := fakearm.Start(dir, sec)
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	path = filepath.Join(dir, "create.yaml")
	rec := startProxy(t, engine.Record, ca, forwardproxy.WithCassette(path), forwardproxy.WithUpstreamCA(fake.CAFile),
		forwardproxy.WithResolve(fakearm.ARMHost, fake.Addr))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	state, err := armflow.CreateAccount(ctx, staticToken(sec.AccessToken), sec.SubscriptionID, clientVia(rec),
		&runtime.PollUntilDoneOptions{Frequency: armflow.PollFrequency()})
	if err != nil || state != "Succeeded" {
		t.Fatalf("recording the create: state %q, %v", state, err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := cassette.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	inProgress := 0
	for _, it := range c.Interactions {
		if strings.Contains(it.Request.URL, "/operationsStatus/") && !strings.Contains(it.Response.Body, `"Succeeded"`) {
			inProgress++
		}
	}
	if len(c.Interactions) != 4 || inProgress != 1 {
		t.Fatalf("recorded %d interactions with %d InProgress polls; want the create, two polls (one not yet Succeeded) and the read", len(c.Interactions), inProgress)
	}
	return path, sec
}

// TestRecordedLROReplaysFast replays a recorded account create (one poll not yet Succeeded) to the
// real armcosmos client with its default poller options. Without Retry-After-Ms on the replayed
// answers azcore would wait 30 s before the second poll, past the context's deadline.
func TestRecordedLROReplaysFast(t *testing.T) {
	ca := newCA(t)
	path, sec := recordAccountCreate(t, ca)
	srv := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(path))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	state, err := armflow.CreateAccount(ctx, staticToken("any"), sec.SubscriptionID, clientVia(srv), nil)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if state != "Succeeded" {
		t.Errorf("provisioning state %q", state)
	}
	if s := srv.Summary(); s.Misses != 0 || s.Unused != 0 || s.Replayed != 4 {
		t.Errorf("summary %s, want the create, 2 polls and the final read replayed", s)
	}
	t.Logf("account create LRO replayed in %s", took)
	if took > time.Second {
		t.Errorf("LRO replay took %s, want under a second", took)
	}
}

func init() {
	// The account create with default poller options, from a client configured by nothing but
	// HTTPS_PROXY and SSL_CERT_FILE.
	helpers["lro-from-env"] = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		start := time.Now()
		state, err := armflow.CreateAccount(ctx, staticToken("any"), os.Getenv("ARM_SUBSCRIPTION"), nil, nil)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(lroOutcome{State: state, Ms: time.Since(start).Milliseconds()})
	}
	// The fakearm flow with azidentity's real ClientSecretCredential, default options throughout.
	helpers["arm-from-env"] = func() error {
		cred, err := azidentity.NewClientSecretCredential(os.Getenv("ARM_TENANT"), os.Getenv("ARM_CLIENT"), "a-fake-secret-for-replay", nil)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := armflow.Run(ctx, cred, os.Getenv("ARM_SUBSCRIPTION"), nil)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(res)
	}
}

// runHelper re-executes this test binary to run one helper flow with only env added to a clean
// environment: no proxy or certificate settings are inherited.
func runHelper(t *testing.T, name string, env ...string) []byte {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); strings.ToUpper(k) {
		case "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, append([]string{helperEnv + "=" + name}, env...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper %s: %v\n%s", name, err, stderr.String())
	}
	return out
}

// TestARMClientsConfiguredOnlyByEnvironment: the real armcosmos client with default options,
// given only HTTPS_PROXY and the CA (SSL_CERT_FILE), replays a recorded account create; and
// azidentity's ClientSecretCredential holding a fake secret replays a recording that includes
// the Entra ID token request.
func TestARMClientsConfiguredOnlyByEnvironment(t *testing.T) {
	ca := newCA(t)
	created, createSec := recordAccountCreate(t, ca)
	lro := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(created))
	var got lroOutcome
	out := runHelper(t, "lro-from-env", "HTTPS_PROXY="+lro.URL(), "SSL_CERT_FILE="+ca.CertPath, "ARM_SUBSCRIPTION="+createSec.SubscriptionID)
	if err := json.Unmarshal(out, &got); err != nil || got.State != "Succeeded" {
		t.Fatalf("LRO from the environment: %s (%v)", out, err)
	}
	if s := lro.Summary(); s.Misses != 0 || s.Replayed != 4 {
		t.Errorf("LRO replay: %s", s)
	}
	t.Logf("LRO with only HTTPS_PROXY and the CA: %d ms", got.Ms)

	// Record the fakearm flow (token request included) through the forward proxy.
	fr := recordFakeARM(t, ca, "arm.yaml")
	sec, cas := fr.sec, fr.cassette
	recorded, _, err := runARMFlow(fr.rec, sec.TenantID, sec.ClientID, sec.ClientSecret, sec.SubscriptionID)
	if err != nil {
		t.Fatal(err)
	}
	fr.rec.Close()
	fr.fake.Close()

	play := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(cas))
	out = runHelper(t, "arm-from-env", "HTTPS_PROXY="+play.URL(), "SSL_CERT_FILE="+ca.CertPath,
		"ARM_TENANT="+sec.TenantID, "ARM_CLIENT="+sec.ClientID, "ARM_SUBSCRIPTION="+sec.SubscriptionID)
	var replayed armflow.Result
	if err := json.Unmarshal(out, &replayed); err != nil {
		t.Fatalf("ARM flow from the environment: %s (%v)", out, err)
	}
	if replayed.CreateState != recorded.CreateState || replayed.GetState != recorded.GetState || len(replayed.ConnectionStrings) != len(recorded.ConnectionStrings) {
		t.Errorf("replayed %s\nrecorded %s", replayed, recorded)
	}
	if s := play.Summary(); s.Misses != 0 || s.Unused != 0 {
		t.Errorf("ARM replay from the environment: %s", s)
	}
}
