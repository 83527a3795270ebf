package matcher

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// Requests read with the URL memo have the parts and keys they have without it, whether their
// URL was read before, is new, or comes after the memo started again.
func TestURLMemoReadsAsWithout(t *testing.T) {
	urls := []string{
		"https://acct.documents.azure.com/dbs/db/colls/c/docs",
		"https://ACCT.documents.azure.com:443/dbs/db/colls/c/docs?b=2&a=1&a=0",
		"http://[::1]:8080",
		"https://management.azure.com/subscriptions/s/resourceGroups/rg?api-version=2024-11-15",
		"https://h/%2Fescaped/path?q=%20",
	}
	var reqs []cassette.Request
	for i := range 2 * urlMemoMax {
		u := urls[i%len(urls)]
		if i%5 != 0 {
			u = fmt.Sprintf("https://acct.documents.azure.com/dbs/db/colls/c/docs/item-%d?n=%d", i, i)
		}
		reqs = append(reqs, cassette.Request{Method: []string{"get", "POST"}[i%2], URL: u, Body: fmt.Sprintf(`{"n":%d}`, i%7),
			Headers: http.Header{"X-Ms-Documentdb-Partitionkey": {fmt.Sprintf(`["p%d"]`, i%4)}}})
	}
	memo := urlMemo{}
	filled := 0
	for i, r := range reqs {
		with, err := splitWith(&r, readBody, memo)
		if err != nil {
			t.Fatal(err)
		}
		without, err := splitWith(&r, readBody, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(with, without) || with.key() != without.key() {
			t.Fatalf("request %d (%s): with the memo %+v, without %+v", i, r.URL, with, without)
		}
		filled = max(filled, len(memo))
	}
	if filled != urlMemoMax || len(memo) >= urlMemoMax {
		t.Errorf("the memo held at most %d URLs and ends with %d: it did not start again", filled, len(memo))
	}
	if _, err := head(&cassette.Request{Method: "GET", URL: "https://h/\x7f"}, memo); err == nil {
		t.Error("a bad URL read through the memo is no error")
	}
}
