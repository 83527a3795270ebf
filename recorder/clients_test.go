package recorder_test

// The recorder with the real Azure SDK clients: azcosmos against the real Cosmos-compatible
// upstream, azidentity and armcosmos against fakearm. Each records, loses its upstream, and
// replays with the same results, no misses and nothing unused.

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azvcr/azvcr/fixtures/armflow"
	"github.com/azvcr/azvcr/fixtures/cosmosflow"
	"github.com/azvcr/azvcr/fixtures/fakearm"
	"github.com/azvcr/azvcr/fixtures/upstream"
	"github.com/azvcr/azvcr/recorder"
	"github.com/azvcr/azvcr/secrets"
	azvcrupstream "github.com/azvcr/azvcr/upstream"
)

// realTransport trusts caFile and dials addr for each of hosts: how a test reaches a local
// stand-in for a real service when recording.
func realTransport(t *testing.T, caFile, addr string, hosts ...string) http.RoundTripper {
	t.Helper()
	o := azvcrupstream.Options{CAFiles: []string{caFile}, Resolve: map[string]string{}}
	for _, h := range hosts {
		o.Resolve[h] = addr
	}
	rt, err := azvcrupstream.NewTransport(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.CloseIdleConnections)
	return rt
}

func runCosmos(t *testing.T, endpoint string, client *http.Client) *cosmosflow.Result {
	t.Helper()
	c, err := cosmosflow.NewClient(endpoint, client)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := cosmosflow.Run(ctx, c)
	if err != nil {
		t.Fatalf("cosmos flow: %v", err)
	}
	return res
}

// TestCosmosRecordThenReplay: azcosmos creates a database and container, upserts, reads, pages a
// parameterised query and deletes, recorded in process, then replayed with the upstream gone.
func TestCosmosRecordThenReplay(t *testing.T) {
	dir := t.TempDir()
	up, err := upstream.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Stop()
	cas := filepath.Join(dir, "cosmos.yaml")

	var recorded *cosmosflow.Result
	var count int
	t.Run("record", func(t *testing.T) {
		r := recorder.Start(t, recorder.WithMode(recorder.ModeRecord), recorder.WithCassette(cas),
			recorder.WithRealTransport(realTransport(t, up.CAFile, "")))
		recorded = runCosmos(t, up.Endpoint, r.Client())
		count = r.Summary().Recorded
	})
	if recorded == nil || len(recorded.Pages) < 4 || recorded.ReadBack.ID != "item-07" {
		t.Fatalf("recorded flow: %+v", recorded)
	}
	up.Stop()
	if conn, err := net.DialTimeout("tcp", strings.TrimSuffix(strings.TrimPrefix(up.Endpoint, "https://"), "/"), time.Second); err == nil {
		conn.Close()
		t.Fatal("upstream still reachable after Stop")
	}

	t.Run("replay", func(t *testing.T) {
		r := recorder.Start(t, recorder.WithMode(recorder.ModeReplay), recorder.WithCassette(cas), recorder.WithFailOnUnused(),
			recorder.WithSignatureCheck(cosmosflow.EmulatorKey))
		replayed := runCosmos(t, up.Endpoint, r.Client())
		if !reflect.DeepEqual(recorded, replayed) {
			t.Errorf("replay differs from recording\nrecorded:\n%s\nreplayed:\n%s", recorded, replayed)
		}
		if s := r.Summary(); s.Misses != 0 || s.Unused != 0 || s.Replayed != count {
			t.Errorf("replay %s, want all %d replayed", s, count)
		}
	})
}

type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestARMRecordThenReplay: azidentity's ClientSecretCredential (its token requests through the
// recorder) and armcosmos (an account create LRO, keys, connection strings, a read) against
// fakearm; then the create alone with azcore's default poller options, replayed at once.
func TestARMRecordThenReplay(t *testing.T) {
	dir := t.TempDir()
	sec := fakearm.NewSecrets()
	fake, err := fakearm.Start(dir, sec)
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	real := realTransport(t, fake.CAFile, fake.Addr, fakearm.ARMHost, fakearm.LoginHost)
	flowCas, createCas := filepath.Join(dir, "flow.yaml"), filepath.Join(dir, "create.yaml")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	flow := func(t *testing.T, mode recorder.Mode, secret string) armflow.Result {
		r := recorder.Start(t, recorder.WithMode(mode), recorder.WithCassette(flowCas), recorder.WithRealTransport(real), recorder.WithFailOnUnused())
		cred, err := azidentity.NewClientSecretCredential(sec.TenantID, sec.ClientID, secret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: r.Client()}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := armflow.Run(ctx, cred, sec.SubscriptionID, r.Client())
		if err != nil {
			t.Fatalf("ARM flow (%s): %v", mode, err)
		}
		if s := r.Summary(); s.Misses != 0 {
			t.Errorf("%s", s)
		}
		return res
	}
	var recorded armflow.Result
	t.Run("record", func(t *testing.T) {
		recorded = flow(t, recorder.ModeRecord, sec.ClientSecret)
		r := recorder.Start(t, recorder.WithMode(recorder.ModeRecord), recorder.WithCassette(createCas), recorder.WithRealTransport(real))
		state, err := armflow.CreateAccount(ctx, staticToken(sec.AccessToken), sec.SubscriptionID, r.Client(),
			&runtime.PollUntilDoneOptions{Frequency: armflow.PollFrequency()})
		if err != nil || state != "Succeeded" {
			t.Fatalf("create: %q, %v", state, err)
		}
	})
	if recorded.CreateState != "Succeeded" || recorded.Keys[0] != sec.PrimaryMasterKey || len(recorded.ConnectionStrings) != 4 {
		t.Fatalf("recorded flow: %s", recorded)
	}
	fake.Close()
	checkNoSecrets(t, sec, flowCas, createCas)

	t.Run("replay", func(t *testing.T) {
		replayed := flow(t, recorder.ModeReplay, fakearm.NewSecrets().ClientSecret)
		if replayed.CreateState != recorded.CreateState || replayed.GetState != recorded.GetState ||
			replayed.DocumentEndpoint != recorded.DocumentEndpoint || len(replayed.ConnectionStrings) != len(recorded.ConnectionStrings) {
			t.Errorf("replayed %s\nrecorded %s", replayed, recorded)
		}
		for i, k := range replayed.Keys {
			if k != "REDACTED" {
				t.Errorf("replayed key %d is %q, want the redacted value", i, k)
			}
		}
	})
	t.Run("replay LRO with default poller options", func(t *testing.T) {
		r := recorder.Start(t, recorder.WithMode(recorder.ModeReplay), recorder.WithCassette(createCas), recorder.WithFailOnUnused())
		start := time.Now()
		state, err := armflow.CreateAccount(ctx, staticToken("any"), sec.SubscriptionID, r.Client(), nil)
		took := time.Since(start)
		if err != nil || state != "Succeeded" {
			t.Fatalf("create: %q, %v", state, err)
		}
		if s := r.Summary(); s.Replayed != 4 || s.Misses != 0 {
			t.Errorf("replay %s, want the create, two polls (one InProgress) and the read", s)
		}
		t.Logf("account create LRO replayed in process in %s (azcore's default poll interval is 30 s)", took)
		if took > time.Second {
			t.Errorf("LRO replay took %s, want well under a second", took)
		}
	})
}

// checkNoSecrets searches the cassettes for every value fakearm planted, and lints them.
func checkNoSecrets(t *testing.T, sec fakearm.Secrets, paths ...string) {
	t.Helper()
	planted := map[string]string{
		"client secret": sec.ClientSecret, "access token": sec.AccessToken, "tenant": sec.TenantID,
		"subscription": sec.SubscriptionID, "primary key": sec.PrimaryMasterKey, "secondary key": sec.SecondaryMasterKey,
		"primary read-only key": sec.PrimaryReadonlyMasterKey, "secondary read-only key": sec.SecondaryReadonlyMasterKey,
	}
	for name, v := range sec.Cookies {
		planted["cookie "+name] = v
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range planted {
			if strings.Contains(string(data), v) {
				t.Errorf("%s holds the %s", p, name)
			}
		}
		for _, f := range secrets.Lint(p, data) {
			t.Errorf("lint: %s", f)
		}
	}
}
