package redact

import (
	"strings"
	"testing"
)

// FuzzNameChecks holds the name checks to what they replaced: strings.EqualFold over the list,
// and strings.ToLower before comparing with the authorization names.
func FuzzNameChecks(f *testing.F) {
	for _, s := range []string{"Authorization", "x-ms-authorization-auxiliary", "Proxy-Authorization", "AUTHORIZATIONS", "ſecret", "\u212aey", "password", "Client_Secret", "İd", "accountkey", strings.Repeat("a", 70)} {
		f.Add(s)
	}
	lists := [][]string{secretHeaders, secretParams, secretFields, armKeyFields, connectionStringParams, entraSecretParams, entraTokenNames, {"_token"}, {"K\u212a", "ſ"}}
	f.Fuzz(func(t *testing.T, s string) {
		for _, names := range lists {
			if got, want := listOf(names...).has(s), containsFold(names, s); got != want {
				t.Errorf("listOf(%q).has(%q) = %v, want %v", names, s, got, want)
			}
		}
		n := strings.ToLower(s)
		want := n == "authorization" || strings.HasSuffix(n, "-authorization") || strings.HasSuffix(n, "-authorization-auxiliary")
		if got := isAuthorizationHeader(s); got != want {
			t.Errorf("isAuthorizationHeader(%q) = %v, want %v", s, got, want)
		}
	})
}
