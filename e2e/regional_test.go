package e2e

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/cosmosflow"
	"github.com/azvcr/azvcr/fixtures/upstream"
	"github.com/azvcr/azvcr/forwardproxy"
)

// TestRegionalEndpointsRecordAndReplay: the account read (GET /) tells an SDK which regional hosts
// to use, and it sends its data requests there. cosmosdb-server advertises
// https://127.0.0.1:PORT/ as its only write and read location, so a client given the account
// endpoint https://localhost:PORT/ reads the account on localhost and then moves to the "regional"
// host 127.0.0.1. Both hosts' traffic is recorded, and with the upstream gone it replays: the same
// results, every recording used, no misses.
func TestRegionalEndpointsRecordAndReplay(t *testing.T) {
	began := time.Now()
	dir := t.TempDir()
	up, err := upstream.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Stop()
	port := regionalParseURL(t, up.Endpoint).Port()
	accountHost, regionalHost := "localhost:"+port, "127.0.0.1:"+port
	accountEndpoint := "https://" + accountHost + "/"
	if up.Endpoint != "https://"+regionalHost+"/" {
		t.Fatalf("upstream endpoint %s, want https://%s/ (the location its account read advertises)", up.Endpoint, regionalHost)
	}
	ca := newCA(t)
	cassettePath := filepath.Join(dir, "regional.yaml")

	rec := startProxy(t, engine.Record, ca, forwardproxy.WithCassette(cassettePath), forwardproxy.WithUpstreamCA(up.CAFile))
	recorded := runFlow(t, accountEndpoint, rec)
	checkFlowResult(t, recorded)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	sum := rec.Summary()
	recordDone := time.Now()

	c, err := cassette.Load(cassettePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != sum.Recorded {
		t.Fatalf("cassette holds %d interactions, recorder wrote %d", len(c.Interactions), sum.Recorded)
	}
	// The account read went to the account host and advertised the regional one; everything else
	// went to the regional host.
	byHost := map[string][]string{}
	for _, it := range c.Interactions {
		u := regionalParseURL(t, it.Request.URL)
		if it.Request.Host != "" && !strings.EqualFold(it.Request.Host, u.Host) {
			t.Errorf("interaction %d: Host %q but URL %s", it.ID, it.Request.Host, it.Request.URL)
		}
		byHost[u.Host] = append(byHost[u.Host], it.Request.Method+" "+u.Path)
		switch {
		case isAccountReadInteraction(it):
			if u.Host != accountHost {
				t.Errorf("interaction %d: account read on %s, want the account host %s", it.ID, u.Host, accountHost)
			}
			if !strings.Contains(it.Response.Body, `"databaseAccountEndpoint":"https://`+regionalHost+`/"`) {
				t.Errorf("interaction %d: account read does not advertise https://%s/: %.300s", it.ID, regionalHost, it.Response.Body)
			}
		case u.Host != regionalHost:
			t.Errorf("interaction %d: %s %s went to %s, want the regional host %s", it.ID, it.Request.Method, it.Request.URL, u.Host, regionalHost)
		}
	}
	if len(byHost[accountHost]) == 0 || len(byHost[regionalHost]) == 0 {
		t.Fatalf("want requests to both %s and %s, cassette has %v", accountHost, regionalHost, regionalHostCounts(byHost))
	}
	if endpoint, err := cosmosflow.Endpoint(c); err != nil || endpoint != accountEndpoint {
		t.Errorf("cassette endpoint %q (%v), want %s", endpoint, err, accountEndpoint)
	}
	t.Logf("record: %s in %v; requests by host: %v", sum, recordDone.Sub(began).Round(time.Millisecond), regionalHostCounts(byHost))

	// The upstream is gone: replay must not need it.
	up.Stop()
	if conn, err := net.DialTimeout("tcp", regionalHost, time.Second); err == nil {
		conn.Close()
		t.Fatal("upstream still reachable after Stop")
	}

	play := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(cassettePath))
	replayed := runFlow(t, accountEndpoint, play)
	if !reflect.DeepEqual(recorded, replayed) {
		t.Errorf("replay differs from recording\nrecorded:\n%s\nreplayed:\n%s", recorded, replayed)
	}
	if s := play.Summary(); s.Misses != 0 || s.Unused != 0 || s.Replayed != sum.Recorded || s.Repeated != 0 {
		t.Errorf("replay summary %s, want all %d replayed once, none unused, no misses", s, sum.Recorded)
	} else {
		t.Logf("replay: %s in %v", s, time.Since(recordDone).Round(time.Millisecond))
	}
}

func regionalParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func regionalHostCounts(byHost map[string][]string) string {
	var parts []string
	for h, reqs := range byHost {
		parts = append(parts, fmt.Sprintf("%s=%d", h, len(reqs)))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
