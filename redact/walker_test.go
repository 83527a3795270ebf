package redact

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// TestWalkerReuseMatchesFreshValues holds the walker that reuses its values to one that makes a
// new value for every visit, over requests and responses whose secrets sit in headers, URLs,
// parameters, JSON nested in strings and forms, one walker carried through them all.
func TestWalkerReuseMatchesFreshValues(t *testing.T) {
	var rules []valueRule
	for _, r := range DefaultRules() {
		if vr, ok := r.(valueRule); ok {
			rules = append(rules, vr)
		}
	}
	if len(rules) == 0 {
		t.Fatal("the default rules have no value rules to walk with")
	}
	key := strings.Repeat("Zq8vL2mPx7RtW4kY9hNc", 4) + "AAAA=="
	bodies := []string{
		"", `{"primaryMasterKey":"` + key + `","name":"acct"}`,
		`{"connectionString":"AccountEndpoint=https://a.documents.azure.com:443/;AccountKey=` + key + `;"}`,
		"client_id=x&client_secret=Zq8~vL2mPx7RtW4kY9hNc.Q_abcdefghijklm&grant_type=client_credentials",
		`{"a":"{\"b\":\"{\\\"password\\\":\\\"hunter2hunter2\\\"}\"}","url":"https://h/p?sig=abcdefghijklmnop&x=1"}`,
		`{"query":"SELECT * FROM c WHERE c.id = @id","parameters":[{"name":"@id","value":"x"}]}`,
		"not json: sig=abc&x=1 https://u:p@h/x?token=abc",
	}
	headers := []http.Header{
		nil,
		{"Authorization": {"type=master&ver=1.0&sig=" + key}, "X-Ms-Date": {"Tue, 01 Jan 2030 00:00:00 GMT"}},
		{"Cookie": {"a=" + key}, "X-Ms-Client-Request-Id": {"6f1c"}, "Location": {"https://h/p?sig=" + key}},
	}
	urls := []string{"https://a.documents.azure.com/dbs/d/colls/c/docs", "https://h/token?client_id=x&client_secret=" + key + "&sv=1&sig=" + key}
	reused := &walker{rules: rules}
	for _, body := range bodies {
		for _, h := range headers {
			for _, u := range urls {
				got := cassette.Request{Method: "POST", URL: u, Body: body, Headers: h.Clone()}
				want := cassette.Request{Method: "POST", URL: u, Body: body, Headers: h.Clone()}
				reused.request(&got)
				(&walker{rules: rules, fresh: true}).request(&want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("request %q %q %v:\n got %+v\nwant %+v", u, body, h, got, want)
				}
				gotResp := cassette.Response{Code: 200, Body: body, Headers: h.Clone()}
				wantResp := cassette.Response{Code: 200, Body: body, Headers: h.Clone()}
				reused.response(&gotResp)
				(&walker{rules: rules, fresh: true}).response(&wantResp)
				if !reflect.DeepEqual(gotResp, wantResp) {
					t.Errorf("response %q %v:\n got %+v\nwant %+v", body, h, gotResp, wantResp)
				}
			}
		}
	}
	if reused.level != 0 {
		t.Errorf("walker left at level %d", reused.level)
	}
}
