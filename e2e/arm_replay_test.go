package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/cosmos/armcosmos/v2"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/armflow"
	"github.com/azvcr/azvcr/forwardproxy"

	"github.com/azvcr/azvcr/testproxyjson"
)

// conformanceDir holds Microsoft's armcosmos recordings: $AZVCR_CONFORMANCE_DIR, else
// ../shared/conformance/armcosmos beside the repository. Missing data fails the test.
func conformanceDir(t testing.TB) string {
	dir := os.Getenv("AZVCR_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "conformance", "armcosmos")
	}
	if _, err := os.Stat(filepath.Join(dir, "recordings")); err != nil {
		t.Fatalf("conformance recordings not found (set AZVCR_CONFORMANCE_DIR): %v", err)
	}
	return dir
}

// convertedCassette converts a test-proxy recording to an azvcr YAML cassette, as `azvcr convert` does.
func convertedCassette(t testing.TB, suite string) string {
	c, vars, err := testproxyjson.Load(filepath.Join(conformanceDir(t), "recordings", suite+".json"))
	if err != nil {
		t.Fatal(err)
	}
	c.Variables = vars
	path := filepath.Join(t.TempDir(), suite+".yaml")
	if err := cassette.Save(path, c); err != nil {
		t.Fatal(err)
	}
	return path
}

type fakeToken struct{}

func (fakeToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "fake", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// The account create LRO as recorded in TestDatabaseAccountsTestSuite (sanitized names).
const (
	lroResourceGroup = "go-sdk-test-rg"
	lroAccount       = "accountn66rbhr"
	zeroSubscription = "00000000-0000-0000-0000-000000000000"
)

// createAccountLRO runs the recorded account create with the SDK's default poller options.
func createAccountLRO(ctx context.Context, opts *arm.ClientOptions) (string, error) {
	client, err := armcosmos.NewDatabaseAccountsClient(zeroSubscription, fakeToken{}, opts)
	if err != nil {
		return "", err
	}
	loc := func(name string, prio int32) *armcosmos.Location {
		return &armcosmos.Location{LocationName: &name, FailoverPriority: &prio}
	}
	westus, offer, mode := "westus", "Standard", armcosmos.CreateModeDefault
	poller, err := client.BeginCreateOrUpdate(ctx, lroResourceGroup, lroAccount, armcosmos.DatabaseAccountCreateUpdateParameters{
		Location: &westus,
		Properties: &armcosmos.DatabaseAccountCreateUpdateProperties{
			CreateMode:               &mode,
			DatabaseAccountOfferType: &offer,
			Locations:                []*armcosmos.Location{loc("southcentralus", 2), loc("eastus", 1), loc("westus", 0)},
		},
	}, nil)
	if err != nil {
		return "", fmt.Errorf("begin create: %w", err)
	}
	res, err := poller.PollUntilDone(ctx, nil) // default options: azcore would wait 30 s between polls
	if err != nil {
		return "", fmt.Errorf("poll: %w", err)
	}
	return *res.Properties.ProvisioningState, nil
}

// TestRecordedLROReplaysFast replays Microsoft's recorded account-create LRO (one create, ten
// "Dequeued" polls, then "Succeeded") through the forward proxy to the real armcosmos client with
// its default poller options. Without Retry-After-Ms on the replayed answers azcore would wait
// 30 s per poll, more than five minutes.
func TestRecordedLROReplaysFast(t *testing.T) {
	path := convertedCassette(t, "TestDatabaseAccountsTestSuite")
	srv := startProxy(t, engine.Replay, newCA(t), forwardproxy.WithCassette(path))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	state, err := createAccountLRO(ctx, &arm.ClientOptions{ClientOptions: policy.ClientOptions{Transport: clientVia(srv)}})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if state != "Succeeded" {
		t.Errorf("provisioning state %q", state)
	}
	if s := srv.Summary(); s.Misses != 0 || s.Replayed != 13 {
		t.Errorf("summary %s, want the create, 11 polls and the final read replayed", s)
	}
	t.Logf("account create LRO replayed in %s", took)
	if took > time.Second {
		t.Errorf("LRO replay took %s, want under a second", took)
	}
}

func init() {
	// The LRO again, from a client configured by nothing but HTTPS_PROXY and SSL_CERT_FILE.
	helpers["lro-from-env"] = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		start := time.Now()
		state, err := createAccountLRO(ctx, nil)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"state": state, "ms": time.Since(start).Milliseconds()})
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
// given only HTTPS_PROXY and the CA (SSL_CERT_FILE), replays a converted recording; and
// azidentity's ClientSecretCredential holding a fake secret replays a recording that includes
// the Entra ID token request.
func TestARMClientsConfiguredOnlyByEnvironment(t *testing.T) {
	ca := newCA(t)
	lro := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(convertedCassette(t, "TestDatabaseAccountsTestSuite")))
	var got struct {
		State string `json:"state"`
		Ms    int64  `json:"ms"`
	}
	out := runHelper(t, "lro-from-env", "HTTPS_PROXY="+lro.URL(), "SSL_CERT_FILE="+ca.CertPath)
	if err := json.Unmarshal(out, &got); err != nil || got.State != "Succeeded" {
		t.Fatalf("LRO from the environment: %s (%v)", out, err)
	}
	if s := lro.Summary(); s.Misses != 0 || s.Replayed != 13 {
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
