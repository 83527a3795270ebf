package e2e

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/cosmosflow"
	"github.com/azvcr/azvcr/forwardproxy"
)

// The real azcosmos client signing with the emulator key passes azvcr's signature check on every
// request of the shipped cassette; the same client with another key gets Cosmos DB's 401.
func TestSignatureCheckWithRealClient(t *testing.T) {
	c, err := cassette.Load(fixtureCassette)
	if err != nil {
		t.Fatal(err)
	}
	endpoint, _ := cosmosflow.Endpoint(c)
	ca := newCA(t)

	good := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(fixtureCassette), forwardproxy.WithSignatureCheck(engine.EmulatorKey))
	checkFlowResult(t, runFlow(t, endpoint, good))
	if s := good.Summary(); s.Misses != 0 || s.Replayed != len(c.Interactions) {
		t.Errorf("with the emulator key: %s", s)
	}

	bad := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(fixtureCassette), forwardproxy.WithSignatureCheck(engine.EmulatorKey))
	otherKey := "dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw=="
	client, err := cosmosflow.NewClientWithKey(endpoint, otherKey, clientVia(bad))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = cosmosflow.Run(ctx, client)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong key: got %v, want a 401 ResponseError", err)
	}
	if s := bad.Summary(); s.Replayed != 0 {
		t.Errorf("wrong key still replayed: %s", s)
	}
}
