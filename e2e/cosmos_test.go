// Package e2e drives the real azcosmos client through azvcr against a real Cosmos DB-compatible
// server (@vercel/cosmosdb-server), records, stops the server, and replays.
package e2e

import (
	"context"
	"crypto/tls"
	"flag"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/cosmosflow"
	"github.com/azvcr/azvcr/fixtures/upstream"
	"github.com/azvcr/azvcr/forwardproxy"
)

var update = flag.Bool("update", false, "rewrite fixtures/cassettes/cosmos-e2e.yaml from a fresh recording")

// fixtureCassette is the committed recording of cosmosflow; make demo replays it.
var fixtureCassette = filepath.Join("..", "fixtures", "cassettes", "cosmos-e2e.yaml")

func startProxy(t testing.TB, mode engine.Mode, ca *certs.CA, opts ...forwardproxy.Option) *forwardproxy.Server {
	t.Helper()
	srv, err := forwardproxy.New(mode, append([]forwardproxy.Option{forwardproxy.WithCA(ca)}, opts...)...)
	if err != nil {
		t.Fatalf("forwardproxy.New(%s): %v", mode, err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if mode.Records() && srv.CassettePath() != "" {
		keepRecording(t, srv.CassettePath()) // runs after the Close below
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// clientVia is an HTTP client that sends everything through azvcr and trusts only azvcr's CA.
func clientVia(srv *forwardproxy.Server) *http.Client {
	u, _ := url.Parse(srv.URL())
	return &http.Client{Transport: &http.Transport{
		Proxy:           http.ProxyURL(u),
		TLSClientConfig: &tls.Config{RootCAs: srv.CA().Pool()},
	}}
}

func newCA(t testing.TB) *certs.CA {
	t.Helper()
	ca, _, err := certs.InitCA(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func runFlow(t *testing.T, endpoint string, srv *forwardproxy.Server) *cosmosflow.Result {
	t.Helper()
	client, err := cosmosflow.NewClient(endpoint, clientVia(srv))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := cosmosflow.Run(ctx, client)
	if err != nil {
		t.Fatalf("cosmos flow through azvcr %s: %v", srv.Mode(), err)
	}
	return res
}

func checkFlowResult(t *testing.T, res *cosmosflow.Result) {
	t.Helper()
	if res.ReadBack.ID != "item-07" || res.ReadBack.N != 7 {
		t.Errorf("read back %+v, want item-07 with n=7", res.ReadBack)
	}
	if len(res.Pages) < 4 {
		t.Fatalf("query returned %d pages, want at least 4 (page size %d)", len(res.Pages), cosmosflow.PageSize)
	}
	total := 0
	for i, p := range res.Pages {
		total += len(p.IDs)
		if len(p.IDs) > cosmosflow.PageSize {
			t.Errorf("page %d has %d items, more than the page size %d", i+1, len(p.IDs), cosmosflow.PageSize)
		}
		if last := i == len(res.Pages)-1; last != (p.Continuation == "") {
			t.Errorf("page %d continuation %q (last page: %v)", i+1, p.Continuation, last)
		}
	}
	if want := cosmosflow.Items - cosmosflow.MinN; total != want {
		t.Errorf("query returned %d items over all pages, want %d", total, want)
	}
}

func TestCosmosRecordThenReplayOffline(t *testing.T) {
	dir := t.TempDir()
	up, err := upstream.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Stop()
	ca := newCA(t)
	cassettePath := filepath.Join(dir, "cosmos.yaml")

	rec := startProxy(t, engine.Record, ca, forwardproxy.WithCassette(cassettePath), forwardproxy.WithUpstreamCA(up.CAFile))
	recorded := runFlow(t, up.Endpoint, rec)
	checkFlowResult(t, recorded)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	sum := rec.Summary()
	t.Logf("record: %s\n%s", sum, recorded)

	// The upstream is gone: replay must not need it.
	up.Stop()
	if conn, err := net.DialTimeout("tcp", mustHost(t, up.Endpoint), time.Second); err == nil {
		conn.Close()
		t.Fatal("upstream still reachable after Stop")
	}
	c, err := cassette.Load(cassettePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != sum.Recorded {
		t.Fatalf("cassette holds %d interactions, recorder wrote %d", len(c.Interactions), sum.Recorded)
	}

	play := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(cassettePath))
	replayed := runFlow(t, up.Endpoint, play)
	if !reflect.DeepEqual(recorded, replayed) {
		t.Errorf("replay differs from recording\nrecorded:\n%s\nreplayed:\n%s", recorded, replayed)
	}
	if s := play.Summary(); s.Misses != 0 || s.Unused != 0 || s.Replayed != sum.Recorded {
		t.Errorf("replay summary %s, want all %d replayed, none unused, no misses", s, sum.Recorded)
	}
	if *update {
		data, err := os.ReadFile(cassettePath)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fixtureCassette, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", fixtureCassette)
	}
}

func mustHost(t *testing.T, endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
