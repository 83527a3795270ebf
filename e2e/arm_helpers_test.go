package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/armflow"
	"github.com/azvcr/azvcr/fixtures/fakearm"
	"github.com/azvcr/azvcr/forwardproxy"
)

// fakeRecording is fakearm with a recording azvcr in front of it.
type fakeRecording struct {
	fake     *fakearm.Server
	sec      fakearm.Secrets
	ca       *certs.CA
	rec      *forwardproxy.Server
	cassette string // the file rec records to
}

// recordFakeARM starts fakearm (with opts) and a recording azvcr that reaches it for both host
// names; both stop when the test ends.
func recordFakeARM(t *testing.T, ca *certs.CA, cassetteName string, opts ...fakearm.Option) fakeRecording {
	t.Helper()
	dir := t.TempDir()
	fr := fakeRecording{sec: fakearm.NewSecrets(), ca: ca, cassette: filepath.Join(dir, cassetteName)}
	var err error
	if fr.fake, err = fakearm.Start(dir, fr.sec, opts...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fr.fake.Close)
	fr.rec = startProxy(t, engine.Record, ca,
		forwardproxy.WithCassette(fr.cassette),
		forwardproxy.WithUpstreamCA(fr.fake.CAFile),
		forwardproxy.WithResolve(fakearm.ARMHost, fr.fake.Addr),
		forwardproxy.WithResolve(fakearm.LoginHost, fr.fake.Addr))
	return fr
}

// finish stops the recorder and the fake (a replay must not need it) and returns the
// recorder's summary, what the fake served, and the cassette's bytes and contents.
func (fr fakeRecording) finish(t *testing.T) (engine.Summary, []string, []byte, *cassette.Cassette) {
	t.Helper()
	if err := fr.rec.Close(); err != nil {
		t.Fatal(err)
	}
	served := fr.fake.Requests()
	fr.fake.Close()
	data, err := os.ReadFile(fr.cassette)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cassette.Load(fr.cassette)
	if err != nil {
		t.Fatalf("cassette.Load: %v", err)
	}
	return fr.rec.Summary(), served, data, c
}

// runARMFlow runs armflow through srv with a ClientSecretCredential that also goes through srv.
// It returns the X-Azvcr-Miss texts of any answers that had no recording.
func runARMFlow(srv *forwardproxy.Server, tenant, clientID, secret, subscription string) (armflow.Result, []string, error) {
	return viaAzvcr(srv, tenant, clientID, secret, 30*time.Second, func(ctx context.Context, cred azcore.TokenCredential, c *http.Client) (armflow.Result, error) {
		return armflow.Run(ctx, cred, subscription, c)
	})
}

// viaAzvcr runs flow with an HTTP client through srv and a ClientSecretCredential that uses it
// too, and returns the X-Azvcr-Miss texts of the answers that had no recording.
func viaAzvcr[R any](srv *forwardproxy.Server, tenant, clientID, secret string, timeout time.Duration,
	flow func(context.Context, azcore.TokenCredential, *http.Client) (R, error)) (R, []string, error) {
	ml := &missLog{rt: clientVia(srv).Transport}
	httpClient := &http.Client{Transport: ml}
	cred, err := azidentity.NewClientSecretCredential(tenant, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{Transport: httpClient},
	})
	if err != nil {
		var zero R
		return zero, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := flow(ctx, cred, httpClient)
	return res, ml.list(), err
}

type missLog struct {
	rt     http.RoundTripper
	mu     sync.Mutex
	misses []string
}

func (m *missLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := m.rt.RoundTrip(r)
	if err == nil {
		if miss := resp.Header.Get("X-Azvcr-Miss"); miss != "" {
			m.mu.Lock()
			m.misses = append(m.misses, miss)
			m.mu.Unlock()
		}
	}
	return resp, err
}

func (m *missLog) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.misses...)
}
