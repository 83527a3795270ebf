package engine

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/matcher"
)

// The worked example from the Cosmos DB REST documentation ("Access control on Cosmos DB resources").
func TestCosmosSignatureDocsVector(t *testing.T) {
	c, err := newSignatureChecker("dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw==")
	if err != nil {
		t.Fatal(err)
	}
	got := cosmosSignature(c.key, "GET", "dbs", "dbs/ToDoList", "Thu, 27 Apr 2017 00:51:12 GMT")
	if want := "c09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu+c+c="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	// Through check(): the right signature passes, a wrong one is a 401 naming the payload.
	r, _ := http.NewRequest("GET", "https://acct.documents.azure.com/dbs/ToDoList", nil)
	r.Header.Set("X-Ms-Date", "Thu, 27 Apr 2017 00:51:12 GMT")
	r.Header.Set("Authorization", url.QueryEscape("type=master&ver=1.0&sig="+got))
	if resp := c.check(r); resp != nil {
		t.Fatalf("right signature refused: %d", resp.StatusCode)
	}
	r.Header.Set("Authorization", url.QueryEscape("type=master&ver=1.0&sig=AAAA"+got[4:]))
	resp := c.check(r)
	if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong signature accepted")
	}
	buf := new(strings.Builder)
	resp.Write(buf)
	if !strings.Contains(buf.String(), `"code":"Unauthorized"`) || !strings.Contains(buf.String(), `get\\ndbs\\ndbs/ToDoList\\nthu, 27 apr 2017 00:51:12 gmt`) {
		t.Errorf("401 body does not name the payload:\n%s", buf)
	}
	// Tokens that are not master-key signatures are not checked.
	r.Header.Set("Authorization", url.QueryEscape("type=aad&ver=1.0&sig=eyJ0eXAi"))
	if c.check(r) != nil {
		t.Error("an Entra ID token was checked as a master-key signature")
	}
}

func TestCosmosResource(t *testing.T) {
	tests := []struct{ path, typ, link string }{
		{"/", "", ""},
		{"", "", ""},
		{"/dbs", "dbs", ""},
		{"/dbs/db1", "dbs", "dbs/db1"},
		{"/dbs/db1/colls", "colls", "dbs/db1"},
		{"/dbs/db1/colls/c1", "colls", "dbs/db1/colls/c1"},
		{"/dbs/db1/colls/c1/docs", "docs", "dbs/db1/colls/c1"},
		{"/dbs/db1/colls/c1/docs/item%20one", "docs", "dbs/db1/colls/c1/docs/item one"},
		{"/dbs/db1/colls/c1/pkranges", "pkranges", "dbs/db1/colls/c1"},
		{"/offers", "offers", ""},
	}
	for _, tt := range tests {
		typ, link := cosmosResource(tt.path)
		if typ != tt.typ || link != tt.link {
			t.Errorf("%q: (%q, %q), want (%q, %q)", tt.path, typ, link, tt.typ, tt.link)
		}
	}
}

func TestAuthFieldsKeepPlus(t *testing.T) {
	f := authFields(url.QueryEscape("type=master&ver=1.0&sig=a+b/c="))
	if f["type"] != "master" || f["sig"] != "a+b/c=" {
		t.Errorf("fields %v", f)
	}
	if _, err := New(Replay, WithSignatureCheck("not base64!"), WithIndex(emptyIndex(t))); err == nil {
		t.Error("a bad playback key was accepted")
	}
}

func emptyIndex(t *testing.T) *matcher.Index {
	t.Helper()
	x, err := matcher.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
