package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/armflow"
	"github.com/azvcr/azvcr/fixtures/fakearm"
	"github.com/azvcr/azvcr/forwardproxy"

	"github.com/azvcr/azvcr/secrets"
)

const zeroGUID = "00000000-0000-0000-0000-000000000000"

// TestARMRecordRedactsSecretsThenReplays records an ARM session — the Entra ID client-secret token
// request, a create LRO, listKeys, listConnectionStrings and a read — made by the real azidentity
// and armcosmos clients against fakearm, then searches every byte of the cassette for each planted
// secret in every encoding a recording could carry it in, and replays the cassette with a
// different client secret and no upstream at all.
func TestARMRecordRedactsSecretsThenReplays(t *testing.T) {
	dir := t.TempDir()
	sec := fakearm.NewSecrets()
	fake, err := fakearm.Start(dir, sec)
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	checkFakeRejects(t, fake, sec)
	before := len(fake.Requests())

	ca := newCA(t)
	cassettePath := filepath.Join(dir, "arm.yaml")
	rec := startProxy(t, engine.Record, ca,
		forwardproxy.WithCassette(cassettePath),
		forwardproxy.WithUpstreamCA(fake.CAFile),
		forwardproxy.WithResolve(fakearm.ARMHost, fake.Addr),
		forwardproxy.WithResolve(fakearm.LoginHost, fake.Addr))
	recorded, _, err := runARMFlow(rec, sec.TenantID, sec.ClientID, sec.ClientSecret, sec.SubscriptionID)
	if err != nil {
		t.Fatalf("ARM flow through recording azvcr: %v", err)
	}
	// The recording saw the real secrets: the fake served them and the clients parsed them.
	if recorded.CreateState != "Succeeded" || recorded.GetState != "Succeeded" {
		t.Fatalf("recorded flow: %s", recorded)
	}
	if want := [4]string{sec.PrimaryMasterKey, sec.SecondaryMasterKey, sec.PrimaryReadonlyMasterKey, sec.SecondaryReadonlyMasterKey}; recorded.Keys != want {
		t.Fatalf("recorded flow got keys %q, want the planted ones", recorded.Keys)
	}
	if len(recorded.ConnectionStrings) != 4 || !strings.Contains(recorded.ConnectionStrings[0].ConnectionString, sec.PrimaryMasterKey) {
		t.Fatalf("recorded flow got connection strings %+v", recorded.ConnectionStrings)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	sum := rec.Summary()
	served := fake.Requests()[before:]
	fake.Close() // replay must not need it

	data, c := readCassette(t, cassettePath)
	checkRequestSequence(t, c, served, sum)

	leaks := findLeaks(data, c, plantedSecrets(sec))
	for _, l := range leaks {
		t.Errorf("LEAK %s", l)
	}
	for _, f := range secrets.Lint(cassettePath, data) {
		t.Errorf("azvcr lint: %s", f)
	}
	zeroed := checkZeroedIDs(t, c)
	t.Logf("record: %s; cassette %d bytes, %d interactions; %d secrets x their encodings searched: %d leaks; azure ids zeroed in %d URLs/headers\n%s",
		sum, len(data), len(c.Interactions), len(plantedSecrets(sec)), len(leaks), zeroed, recorded)

	// Replay: no upstream, a client secret the fake would have refused, same tenant and subscription.
	play := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(cassettePath))
	replayed, misses, err := runARMFlow(play, sec.TenantID, sec.ClientID, fakearm.NewSecrets().ClientSecret, sec.SubscriptionID)
	for _, m := range misses {
		t.Errorf("replay miss: X-Azvcr-Miss: %s", m)
	}
	if err != nil {
		t.Fatalf("ARM flow through replaying azvcr: %v", err)
	}
	checkSameShape(t, recorded, replayed)
	if s := play.Summary(); s.Misses != 0 || s.Unused != 0 {
		t.Errorf("replay summary %s, want no misses and nothing unused", s)
	} else {
		t.Logf("replay: %s\n%s", s, replayed)
	}
}

// TestARMLeakSearchFindsEveryForm is the leak search's own check: each form of each kind of
// secret, planted in a cassette field and in the file bytes, is reported.
func TestARMLeakSearchFindsEveryForm(t *testing.T) {
	for _, s := range plantedSecrets(fakearm.NewSecrets()) {
		for _, enc := range encodings(s.value) {
			c := &cassette.Cassette{Interactions: []*cassette.Interaction{{
				Request:  cassette.Request{Method: "GET", URL: "https://management.azure.com/x"},
				Response: cassette.Response{Body: `{"v":"` + enc[1] + `"}`},
			}}}
			data := []byte("body: '" + c.Interactions[0].Response.Body + "'\n")
			want := s.name + " (" + enc[0] + ")"
			found := false
			for _, l := range findLeaks(data, c, []planted{s}) {
				found = found || (strings.HasPrefix(l, want) && strings.Contains(l, "response body"))
			}
			if !found {
				t.Errorf("%s planted in a response body was not reported", want)
			}
		}
	}
}

// runARMFlow runs armflow through srv with a ClientSecretCredential that also goes through srv.
// It returns the X-Azvcr-Miss texts of any answers that had no recording.
func runARMFlow(srv *forwardproxy.Server, tenant, clientID, secret, subscription string) (armflow.Result, []string, error) {
	ml := &missLog{rt: clientVia(srv).Transport}
	httpClient := &http.Client{Transport: ml}
	cred, err := azidentity.NewClientSecretCredential(tenant, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{Transport: httpClient},
	})
	if err != nil {
		return armflow.Result{}, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := armflow.Run(ctx, cred, subscription, httpClient)
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

// checkFakeRejects makes sure the fake is strict where the replay relies on not needing it: a
// wrong client secret gets Entra ID's 401 invalid_client, and ARM refuses a missing token.
func checkFakeRejects(t *testing.T, fake *fakearm.Server, sec fakearm.Secrets) {
	t.Helper()
	pem, err := os.ReadFile(fake.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509Pool(t, pem)
	direct := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, fake.Addr)
		},
	}}
	cred, err := azidentity.NewClientSecretCredential(sec.TenantID, sec.ClientID, "wrong"+sec.ClientSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{Transport: direct},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = armflow.Run(ctx, cred, sec.SubscriptionID, direct)
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a wrong client secret: got %v, want 401 invalid_client AADSTS7000215", err)
	}
	resp, err := direct.Get("https://" + fakearm.ARMHost + "/subscriptions/" + sec.SubscriptionID + "/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/a?api-version=" + fakearm.APIVersion)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("ARM without a token answered %s, want 401", resp.Status)
	}
}

// wantRequests is the flow's traffic in order: method, host, and a path pattern with the ids
// already zeroed.
var wantRequests = []struct{ method, host, path string }{
	{"GET", fakearm.LoginHost, `/common/discovery/instance`},
	{"GET", fakearm.LoginHost, `/` + zeroGUID + `/v2\.0/\.well-known/openid-configuration`},
	{"POST", fakearm.LoginHost, `/` + zeroGUID + `/oauth2/v2\.0/token`},
	{"PUT", fakearm.ARMHost, `/subscriptions/` + zeroGUID + `/resourceGroups/azvcr-rg/providers/Microsoft\.DocumentDB/databaseAccounts/azvcr-arm-acct`},
	{"GET", fakearm.ARMHost, `/subscriptions/` + zeroGUID + `/providers/Microsoft\.DocumentDB/locations/westus2/operationsStatus/[-0-9a-f]+`},
	{"GET", fakearm.ARMHost, `/subscriptions/` + zeroGUID + `/providers/Microsoft\.DocumentDB/locations/westus2/operationsStatus/[-0-9a-f]+`},
	{"GET", fakearm.ARMHost, `/subscriptions/` + zeroGUID + `/resourceGroups/azvcr-rg/providers/Microsoft\.DocumentDB/databaseAccounts/azvcr-arm-acct`},
	{"POST", fakearm.ARMHost, `/subscriptions/` + zeroGUID + `/resourceGroups/azvcr-rg/providers/Microsoft\.DocumentDB/databaseAccounts/azvcr-arm-acct/listKeys`},
	{"POST", fakearm.ARMHost, `/subscriptions/` + zeroGUID + `/resourceGroups/azvcr-rg/providers/Microsoft\.DocumentDB/databaseAccounts/azvcr-arm-acct/listConnectionStrings`},
	{"GET", fakearm.ARMHost, `/subscriptions/` + zeroGUID + `/resourceGroups/azvcr-rg/providers/Microsoft\.DocumentDB/databaseAccounts/azvcr-arm-acct`},
}

func checkRequestSequence(t *testing.T, c *cassette.Cassette, served []string, sum engine.Summary) {
	t.Helper()
	if len(c.Interactions) != sum.Recorded || len(served) != sum.Recorded || sum.Recorded != len(wantRequests) {
		t.Errorf("cassette holds %d interactions, recorder wrote %d, fake served %d, want %d\nserved:\n  %s",
			len(c.Interactions), sum.Recorded, len(served), len(wantRequests), strings.Join(served, "\n  "))
	}
	for i, it := range c.Interactions {
		if i >= len(wantRequests) {
			break
		}
		w := wantRequests[i]
		u, err := url.Parse(it.Request.URL)
		if err != nil {
			t.Errorf("#%d: URL %q: %v", it.ID, it.Request.URL, err)
			continue
		}
		if it.Request.Method != w.method || u.Host != w.host || !regexp.MustCompile(`(?i)^`+w.path+`$`).MatchString(u.Path) {
			t.Errorf("interaction %d is %s %s, want %s https://%s%s", i, it.Request.Method, it.Request.URL, w.method, w.host, w.path)
		}
		if it.Response.Code != http.StatusOK {
			t.Errorf("interaction %d (%s %s) recorded status %d", i, it.Request.Method, u.Path, it.Response.Code)
		}
	}
}

// checkZeroedIDs checks that the subscription and tenant GUIDs were replaced consistently in the
// URLs and the polling headers, and counts the places.
func checkZeroedIDs(t *testing.T, c *cassette.Cassette) int {
	t.Helper()
	n := 0
	for _, it := range c.Interactions {
		u, err := url.Parse(it.Request.URL)
		if err != nil {
			continue
		}
		switch {
		case u.Host == fakearm.ARMHost:
			if !strings.HasPrefix(strings.ToLower(u.Path), "/subscriptions/"+zeroGUID+"/") {
				t.Errorf("#%d: ARM URL %s: subscription not replaced by %s", it.ID, it.Request.URL, zeroGUID)
			} else {
				n++
			}
			for _, h := range []string{"Azure-AsyncOperation", "Location"} {
				for _, v := range headerValues(it.Response.Headers, h) {
					if !strings.Contains(strings.ToLower(v), "/subscriptions/"+zeroGUID+"/") {
						t.Errorf("#%d: response header %s %q: subscription not replaced by %s", it.ID, h, v, zeroGUID)
					} else {
						n++
					}
				}
			}
		case u.Host == fakearm.LoginHost && u.Path == "/common/discovery/instance":
			if ae := u.Query().Get("authorization_endpoint"); !strings.Contains(ae, "/"+zeroGUID+"/") {
				t.Errorf("#%d: instance discovery authorization_endpoint %q: tenant not replaced by %s", it.ID, ae, zeroGUID)
			} else {
				n++
			}
		case u.Host == fakearm.LoginHost:
			if !strings.HasPrefix(u.Path, "/"+zeroGUID+"/") {
				t.Errorf("#%d: login URL %s: tenant not replaced by %s", it.ID, it.Request.URL, zeroGUID)
			} else {
				n++
			}
		}
	}
	return n
}

func headerValues(h http.Header, name string) []string {
	var out []string
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			out = append(out, vs...)
		}
	}
	return out
}

// checkSameShape compares a replayed result with the recorded one: the same states and
// endpoints, and connection strings of the same form (their keys are redacted on disk).
func checkSameShape(t *testing.T, recorded, replayed armflow.Result) {
	t.Helper()
	if replayed.CreateState != recorded.CreateState || replayed.GetState != recorded.GetState ||
		replayed.DocumentEndpoint != recorded.DocumentEndpoint || replayed.IdentityType != recorded.IdentityType {
		t.Errorf("replay differs from recording\nrecorded: %s\nreplayed: %s", recorded, replayed)
	}
	for i, k := range replayed.Keys {
		if k == "" {
			t.Errorf("replayed key %d is empty", i)
		}
	}
	shape := regexp.MustCompile(`^AccountEndpoint=https://` + regexp.QuoteMeta(armflow.AccountName) + `\.documents\.azure\.com:443/;AccountKey=[^;]+;$`)
	if len(replayed.ConnectionStrings) != len(recorded.ConnectionStrings) {
		t.Fatalf("replay got %d connection strings, recording %d", len(replayed.ConnectionStrings), len(recorded.ConnectionStrings))
	}
	for i, cs := range replayed.ConnectionStrings {
		rc := recorded.ConnectionStrings[i]
		if cs.Description != rc.Description || cs.KeyKind != rc.KeyKind {
			t.Errorf("connection string %d: replayed %q (%s), recorded %q (%s)", i, cs.Description, cs.KeyKind, rc.Description, rc.KeyKind)
		}
		if !shape.MatchString(cs.ConnectionString) {
			t.Errorf("replayed connection string %d %q does not have the shape %s", i, cs.ConnectionString, shape)
		}
	}
}

func plantedSecrets(sec fakearm.Secrets) []planted {
	out := []planted{
		{"client-secret", sec.ClientSecret, false},
		{"access-token", sec.AccessToken, false},
		{"primaryMasterKey", sec.PrimaryMasterKey, false},
		{"secondaryMasterKey", sec.SecondaryMasterKey, false},
		{"primaryReadonlyMasterKey", sec.PrimaryReadonlyMasterKey, false},
		{"secondaryReadonlyMasterKey", sec.SecondaryReadonlyMasterKey, false},
		{"subscription-id", sec.SubscriptionID, true},
		{"tenant-id", sec.TenantID, true},
	}
	// A rule that redacted only part of the token must not pass either.
	if parts := strings.Split(sec.AccessToken, "."); len(parts) == 3 {
		out = append(out, planted{"access-token.claims", parts[1], false}, planted{"access-token.signature", parts[2], false})
	}
	names := make([]string, 0, len(sec.Cookies))
	for name := range sec.Cookies {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out = append(out, planted{"cookie " + name, sec.Cookies[name], false})
	}
	return out
}

func x509Pool(t *testing.T, pem []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in the fake's CA file")
	}
	return pool
}
