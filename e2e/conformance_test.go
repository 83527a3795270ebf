//go:build conformance

package e2e

// Microsoft's recorded armcosmos traffic replayed to the real clients: run by `make conformance`
// (go test -tags conformance), which finds the recordings in $AZVCR_CONFORMANCE_DIR. They are not
// in this repository. The same properties are proved on the project's own fakearm recordings in
// arm_replay_test.go, which `make test` runs.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/cosmos/armcosmos/v2"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
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

// The account create LRO as recorded in TestDatabaseAccountsTestSuite (sanitized names).
const (
	lroResourceGroup = "go-sdk-test-rg"
	lroAccount       = "accountn66rbhr"
)

// createRecordedAccountLRO runs the recorded account create with the SDK's default poller options.
func createRecordedAccountLRO(ctx context.Context, opts *arm.ClientOptions) (string, error) {
	client, err := armcosmos.NewDatabaseAccountsClient(zeroGUID, staticToken("fake"), opts)
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

// TestConformanceRecordedLROReplaysFast replays Microsoft's recorded account-create LRO (one
// create, ten "Dequeued" polls, then "Succeeded") through the forward proxy to the real armcosmos
// client with its default poller options. Without Retry-After-Ms on the replayed answers azcore
// would wait 30 s per poll, more than five minutes.
func TestConformanceRecordedLROReplaysFast(t *testing.T) {
	path := convertedCassette(t, "TestDatabaseAccountsTestSuite")
	srv := startProxy(t, engine.Replay, newCA(t), forwardproxy.WithCassette(path))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	state, err := createRecordedAccountLRO(ctx, &arm.ClientOptions{ClientOptions: policy.ClientOptions{Transport: clientVia(srv)}})
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
	// Microsoft's recorded LRO, from a client configured by nothing but HTTPS_PROXY and SSL_CERT_FILE.
	helpers["recorded-lro-from-env"] = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		start := time.Now()
		state, err := createRecordedAccountLRO(ctx, nil)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(lroOutcome{State: state, Ms: time.Since(start).Milliseconds()})
	}
}

// TestConformanceARMClientsFromEnvironment: the real armcosmos client with default options, given
// only HTTPS_PROXY and the CA (SSL_CERT_FILE), replays Microsoft's converted recording.
func TestConformanceARMClientsFromEnvironment(t *testing.T) {
	ca := newCA(t)
	lro := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(convertedCassette(t, "TestDatabaseAccountsTestSuite")))
	var got lroOutcome
	out := runHelper(t, "recorded-lro-from-env", "HTTPS_PROXY="+lro.URL(), "SSL_CERT_FILE="+ca.CertPath)
	if err := json.Unmarshal(out, &got); err != nil || got.State != "Succeeded" {
		t.Fatalf("LRO from the environment: %s (%v)", out, err)
	}
	if s := lro.Summary(); s.Misses != 0 || s.Replayed != 13 {
		t.Errorf("LRO replay: %s", s)
	}
	t.Logf("LRO with only HTTPS_PROXY and the CA: %d ms", got.Ms)
}
