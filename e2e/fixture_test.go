package e2e

import (
	"net/url"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/cosmosflow"
	"github.com/azvcr/azvcr/forwardproxy"

	"github.com/azvcr/azvcr/redact"
)

// TestShippedCassetteReplays is what `make demo` relies on: the committed recording replays to the
// real azcosmos client with no upstream at all, every interaction used once.
func TestShippedCassetteReplays(t *testing.T) {
	c, err := cassette.Load(fixtureCassette)
	if err != nil {
		t.Fatal(err)
	}
	endpoint, err := cosmosflow.Endpoint(c)
	if err != nil {
		t.Fatal(err)
	}
	srv := startProxy(t, engine.Replay, newCA(t), forwardproxy.WithCassette(fixtureCassette))
	res := runFlow(t, endpoint, srv)
	checkFlowResult(t, res)
	if s := srv.Summary(); s.Misses != 0 || s.Unused != 0 || s.Replayed != len(c.Interactions) {
		t.Errorf("summary %s, want %d replayed", s, len(c.Interactions))
	}
	want := url.QueryEscape("type=master&ver=1.0&sig=" + redact.Redacted)
	for _, it := range c.Interactions {
		if v := it.Request.Headers.Get("Authorization"); v != want {
			t.Errorf("interaction %d: Authorization %q reached the file", it.ID, v)
		}
	}
}
