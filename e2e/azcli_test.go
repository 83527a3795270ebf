package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/armflow"
	"github.com/azvcr/azvcr/fixtures/fakearm"
	"github.com/azvcr/azvcr/forwardproxy"
)

// az is Debian's Azure CLI (make deps installs azure-cli).
const az = "/usr/bin/az"

// azEnv keeps az to the calls under test: its own configuration directory, and no telemetry,
// survey, update check or colour.
func azEnv(t *testing.T) []string {
	return []string{"AZURE_CONFIG_DIR=" + t.TempDir(), "AZURE_CORE_COLLECT_TELEMETRY=false", "AZURE_CORE_SURVEY_MESSAGE=false",
		"AZURE_CORE_NO_COLOR=true", "AZURE_CORE_ONLY_SHOW_ERRORS=true", "AZURE_AUTO_UPGRADE_ENABLE=no", "AZURE_CORE_LOGIN_EXPERIENCE_V2=off"}
}

// runAz runs `az login --service-principal` then `az cosmosdb list` with env, and returns both
// outputs as the transcript.
func runAz(t *testing.T, sec fakearm.Secrets, secret string, env []string) ([]byte, string, error) {
	t.Helper()
	env = append(append(azEnv(t), env...), cleanPythonEnv()...)
	var transcript bytes.Buffer
	for _, args := range [][]string{
		// --password=<secret>: a secret may start with "-", which az would take for an option.
		{"login", "--service-principal", "--username", sec.ClientID, "--password=" + secret, "--tenant", sec.TenantID, "--output", "json"},
		{"cosmosdb", "list", "--output", "json"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, az, args...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		cancel()
		if err != nil {
			return nil, "az " + args[0] + " " + args[1] + ": " + errb.String(), err
		}
		transcript.WriteString("$ az " + args[0] + " " + args[1] + "\n")
		transcript.Write(out.Bytes())
	}
	return transcript.Bytes(), "", nil
}

// The Azure CLI logs in as a service principal against fakearm's token endpoint and lists Cosmos
// DB accounts: directly, through azvcr recording (the same output), and replayed with a wrong
// secret (starting with "-") and a fresh configuration (the same output, no misses). Hosts the CLI calls that are off
// the allow-list get the same 403 in replay as in record.
func TestAzureCLIRecordThenReplay(t *testing.T) {
	if _, err := os.Stat(az); err != nil {
		t.Fatalf("%s is missing: run `make deps` (installs Debian's azure-cli)", az)
	}
	fr := recordFakeARM(t, newCA(t), "azcli.yaml", fakearm.WithRetryAfterMs(20))
	sec := fr.sec
	// An account to list, made directly.
	proxy, _ := url.Parse(fr.fake.ProxyURL)
	direct := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy), TLSClientConfig: &tls.Config{RootCAs: x509Pool(t, mustRead(t, fr.fake.CAFile))}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if state, err := armflow.CreateAccount(ctx, staticToken(sec.AccessToken), sec.SubscriptionID, direct, nil); err != nil || state != "Succeeded" {
		t.Fatalf("creating an account to list: %q %v", state, err)
	}

	want, stderr, err := runAz(t, sec, sec.ClientSecret, []string{"HTTPS_PROXY=" + fr.fake.ProxyURL, "REQUESTS_CA_BUNDLE=" + fr.fake.CAFile})
	if err != nil {
		t.Fatalf("az without azvcr: %v\n%s", err, stderr)
	}
	if !bytes.Contains(want, []byte(`"cloudName": "AzureCloud"`)) || !bytes.Contains(want, []byte(`"documentEndpoint"`)) {
		t.Fatalf("az without azvcr printed\n%s", want)
	}
	recorded, stderr, err := runAz(t, sec, sec.ClientSecret, viaProxyEnv(fr.rec))
	if err != nil {
		t.Fatalf("az through azvcr record: %v\n%s", err, stderr)
	}
	if !bytes.Equal(recorded, want) {
		t.Errorf("through azvcr record az printed\n%s\nwithout azvcr\n%s", recorded, want)
	}
	sum, c := fr.finishClean(t)
	t.Logf("record: %s", sum)
	for _, it := range c.Interactions {
		t.Logf("recorded: %s %s -> %d", it.Request.Method, shortPath(it.Request.URL), it.Response.Code)
	}

	var playLog logBuffer
	play := startProxy(t, engine.Replay, fr.ca, forwardproxy.WithCassette(fr.cassette), forwardproxy.WithLogger(warnLogger(&playLog)))
	// Another secret, starting with "-" as one in 66 secrets do.
	replayed, stderr, err := runAz(t, sec, "-"+fakearm.NewSecrets().ClientSecret[1:], viaProxyEnv(play))
	play.Close()
	if err != nil {
		t.Fatalf("az through azvcr replay: %v\n%s\nazvcr warnings:\n%s", err, stderr, strings.Join(playLog.lines(""), "\n"))
	}
	// azvcr writes subscription and tenant ids zeroed: the replayed answers carry those.
	if zeroed := zeroIDs(recorded, sec); !bytes.Equal(zeroIDs(replayed, sec), zeroed) {
		t.Errorf("replayed az printed\n%s\nrecorded (ids zeroed)\n%s", replayed, zeroed)
	}
	if s := play.Summary(); s.Misses != 0 {
		t.Errorf("replay: %s, want no misses:\n%s", s, strings.Join(playLog.lines(""), "\n"))
	} else {
		t.Logf("replay: %s", s)
	}
	// az also sends HEAD https://azure.microsoft.com: off the allow-list, refused in replay (403,
	// the reason in the body) as in record, and no miss.
	if refused := playLog.lines("refused CONNECT"); len(refused) == 0 || !strings.Contains(strings.Join(refused, "\n"), "azure.microsoft.com") {
		t.Errorf("replay did not refuse azure.microsoft.com as record did; warnings:\n%s", strings.Join(playLog.lines(""), "\n"))
	}
}

// zeroIDs writes the subscription and tenant ids as azvcr's recordings hold them.
func zeroIDs(b []byte, sec fakearm.Secrets) []byte {
	const zero = "00000000-0000-0000-0000-000000000000"
	return []byte(strings.NewReplacer(sec.SubscriptionID, zero, sec.TenantID, zero).Replace(string(b)))
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
