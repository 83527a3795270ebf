package matcher

import (
	"reflect"
	"testing"
)

var urlSeeds = []string{
	"https://acct.documents.azure.com/dbs/db/colls/c/docs/item-000001",
	"https://ACCT.documents.azure.com:443/dbs/db/colls/c/docs",
	"http://localhost:8081/dbs/db",
	"http://127.0.0.1:80/",
	"https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/acct?api-version=2024-11-15",
	"https://management.azure.com/providers/Microsoft.DocumentDB/operations?api-version=2024-11-15&$skipToken=a%2Bb",
	"https://login.microsoftonline.com/tenant/oauth2/v2.0/token",
	"https://host",
	"https://host?x=1",
	"https://host/?",
	"https://host:/x",
	"https://host:0443/x",
	"https://host:8443",
	"https://[::1]:8081/dbs",
	"https://user:pw@host/x",
	"https://host/a%2Fb",
	"https://host/a b",
	"https://host/a#frag",
	"https://host/x?a=1;b=2",
	"https://host/x?a=%zz",
	"HTTPS://host/x",
	"ftp://host/x",
	"/relative/path",
	"",
	"https://host_name/x",
	"https://host/a(b)*!'",
	"https://host/é",
	"https://host/x?q=é",
	"https://host/\x7f",
}

// TestReadURLAsNetURL holds the one-pass reading of usual URLs to net/url's, and checks that
// the usual ones take it.
func TestReadURLAsNetURL(t *testing.T) {
	plain := 0
	for _, s := range urlSeeds {
		if checkReadURL(t, s) {
			plain++
		}
	}
	if plain < 10 {
		t.Errorf("only %d of the seeds were read in one pass", plain)
	}
}

// checkReadURL fails t when readURL differs from net/url's reading of s; it reports whether s was
// read in one pass.
func checkReadURL(t *testing.T, s string) bool {
	t.Helper()
	want, werr := readURLSlowly(s)
	got, gerr := readURL(s)
	if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("readURL(%q) = %+v, %v; net/url reads %+v, %v", s, got, gerr, want, werr)
	}
	_, plain := readPlainURL(s)
	return plain
}

func FuzzReadURL(f *testing.F) {
	for _, s := range urlSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkReadURL(t, s) })
}
