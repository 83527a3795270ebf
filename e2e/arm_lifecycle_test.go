package e2e

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/fixtures/armflow"
	"github.com/azvcr/azvcr/fixtures/fakearm"
	"github.com/azvcr/azvcr/forwardproxy"
	"github.com/azvcr/azvcr/secrets"
)

// TestARMLifecycleRecordsThenReplays records the real armcosmos and azidentity clients driving an
// account's whole life against fakearm through azvcr — creates, read, lists, PATCH, read-only
// keys, key regeneration, a SQL database and container, deletes, the paged operations list —
// then replays it with the fake stopped and a client secret the fake would refuse, and wants the
// same results.
func TestARMLifecycleRecordsThenReplays(t *testing.T) {
	const pageSize, polls = 5, 3
	fr := recordFakeARM(t, newCA(t), "lifecycle.yaml", fakearm.WithPageSize(pageSize), fakearm.WithPolls(polls))
	sec, ca, rec, cassettePath := fr.sec, fr.ca, fr.rec, fr.cassette
	recorded, _, err := runLifecycle(rec, sec.TenantID, sec.ClientID, sec.ClientSecret, sec.SubscriptionID)
	if err != nil {
		t.Fatalf("lifecycle through recording azvcr: %v", err)
	}
	ops := fakearm.OperationNames()
	want := armflow.Lifecycle{
		CreateStates:          []string{"Succeeded", "Succeeded"},
		GetState:              "Succeeded",
		ListByGroup:           []string{armflow.AccountName, armflow.SecondAccount},
		ListBySubscription:    []string{armflow.AccountName, armflow.SecondAccount},
		PatchedTags:           "purpose=azvcr-test",
		PatchState:            "Succeeded",
		ReadOnlyKeyCounts:     [2]int{2, 2},
		DatabaseRID:           true,
		DatabaseThroughput:    400,
		ContainerPartitionKey: "/pk Hash",
		Databases:             []string{armflow.Database},
		Containers:            []string{armflow.Container},
		DatabasesAfterDelete:  []string{},
		AfterDelete:           "404 ResourceNotFound",
		OperationPages:        (len(ops) + pageSize - 1) / pageSize,
		Operations:            len(ops),
		FirstOperation:        ops[0],
	}
	if got := withoutKeys(recorded); !reflect.DeepEqual(got, want) {
		t.Fatalf("recorded lifecycle\n got %+v\nwant %+v", got, want)
	}
	if recorded.PrimaryKeyBefore != sec.PrimaryMasterKey || recorded.PrimaryKeyAfter == "" || recorded.PrimaryKeyAfter == recorded.PrimaryKeyBefore {
		t.Errorf("regenerateKey: primary key before %q (planted %q), after %q: want the planted key, then a new one",
			recorded.PrimaryKeyBefore, sec.PrimaryMasterKey, recorded.PrimaryKeyAfter)
	}
	sum, served, data, c := fr.finish(t)
	if len(c.Interactions) != sum.Recorded || len(served) != sum.Recorded {
		t.Errorf("cassette holds %d interactions, recorder wrote %d, fake served %d", len(c.Interactions), sum.Recorded, len(served))
	}
	checkLifecycleWire(t, c, polls, want.OperationPages)
	leaks := findLeaks(data, c, append(plantedSecrets(sec), planted{"regenerated primaryMasterKey", recorded.PrimaryKeyAfter, false}))
	for _, l := range leaks {
		t.Errorf("LEAK %s", l)
	}
	for _, f := range secrets.Lint(cassettePath, data) {
		t.Errorf("azvcr lint: %s", f)
	}

	play := startProxy(t, engine.Replay, ca, forwardproxy.WithCassette(cassettePath))
	replayed, misses, err := runLifecycle(play, sec.TenantID, sec.ClientID, fakearm.NewSecrets().ClientSecret, sec.SubscriptionID)
	for _, m := range misses {
		t.Errorf("replay miss: X-Azvcr-Miss: %s", m)
	}
	if err != nil {
		t.Fatalf("lifecycle through replaying azvcr: %v", err)
	}
	if got := withoutKeys(replayed); !reflect.DeepEqual(got, want) {
		t.Errorf("replayed lifecycle\n got %+v\nwant %+v", got, want)
	}
	if replayed.PrimaryKeyBefore == "" || replayed.PrimaryKeyBefore == sec.PrimaryMasterKey || replayed.PrimaryKeyAfter == recorded.PrimaryKeyAfter {
		t.Errorf("replayed keys %q, %q: want redacted stand-ins, not the recorded keys", replayed.PrimaryKeyBefore, replayed.PrimaryKeyAfter)
	}
	if s := play.Summary(); s.Misses != 0 || s.Unused != 0 || s.Replayed != sum.Recorded {
		t.Errorf("replay summary %s, want all %d interactions replayed, no misses, nothing unused", s, sum.Recorded)
	} else {
		t.Logf("record: %s; cassette %d bytes; replay: %s", sum, len(data), s)
	}
}

func withoutKeys(l armflow.Lifecycle) armflow.Lifecycle {
	l.PrimaryKeyBefore, l.PrimaryKeyAfter = "", ""
	return l
}

// checkLifecycleWire checks what the recording says about ARM's wire behaviour: every operation
// start carries both polling URLs with the request's api-version, each operation was polled
// polls times, deletes answered 202, and the operations list was followed through its nextLinks.
func checkLifecycleWire(t *testing.T, c *cassette.Cassette, polls, opPages int) {
	t.Helper()
	starts, statusPolls, opsPages := 0, 0, 0
	statusURL := regexp.MustCompile(`(?i)^https://management\.azure\.com/subscriptions/` + zeroGUID + `/providers/Microsoft\.DocumentDB/locations/westus2/operationsStatus/[-0-9a-f]+\?api-version=` + fakearm.APIVersion + `$`)
	for _, it := range c.Interactions {
		u, err := url.Parse(it.Request.URL)
		if err != nil {
			t.Fatalf("#%d: %v", it.ID, err)
		}
		switch {
		case strings.Contains(u.Path, "/operationsStatus/"):
			statusPolls++
		case u.Path == "/providers/Microsoft.DocumentDB/operations":
			if u.Query().Get("api-version") != fakearm.APIVersion || (opsPages > 0) != u.Query().Has("$skiptoken") {
				t.Errorf("#%d: operations page URL %s: want the api-version, and a $skiptoken after the first page", it.ID, it.Request.URL)
			}
			opsPages++
		}
		async := headerValues(it.Response.Headers, "Azure-AsyncOperation")
		if len(async) == 0 {
			continue
		}
		starts++
		loc := headerValues(it.Response.Headers, "Location")
		if !statusURL.MatchString(async[0]) || len(loc) != 1 || !strings.HasSuffix(loc[0], "?api-version="+fakearm.APIVersion) {
			t.Errorf("#%d %s %s: Azure-AsyncOperation %q, Location %q", it.ID, it.Request.Method, u.Path, async, loc)
		}
		if it.Request.Method == http.MethodDelete && it.Response.Code != http.StatusAccepted {
			t.Errorf("#%d DELETE %s answered %d, want 202", it.ID, u.Path, it.Response.Code)
		}
	}
	// Two creates, a PATCH, regenerateKey, database and container creates, database delete, two
	// account deletes.
	if starts != 9 || statusPolls != starts*polls || opsPages != opPages {
		t.Errorf("recorded %d operation starts with %d status polls (want 9 with %d each), %d operations pages (want %d)",
			starts, statusPolls, polls, opsPages, opPages)
	}
}

// runLifecycle runs armflow.RunLifecycle through srv (see viaAzvcr).
func runLifecycle(srv *forwardproxy.Server, tenant, clientID, secret, subscription string) (armflow.Lifecycle, []string, error) {
	return viaAzvcr(srv, tenant, clientID, secret, 60*time.Second, func(ctx context.Context, cred azcore.TokenCredential, c *http.Client) (armflow.Lifecycle, error) {
		return armflow.RunLifecycle(ctx, cred, subscription, c)
	})
}
