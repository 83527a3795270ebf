package upstream

import (
	"strings"
	"testing"
)

func TestAllowListDefaults(t *testing.T) {
	a, err := NewAllowList(DefaultAllowedHosts)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want bool
	}{
		{"acct.documents.azure.com", true},
		{"acct-westus.documents.azure.com:443", true},
		{"ACCT.Documents.Azure.COM", true},
		{"acct.documents.azure.com.", true}, // fully qualified
		{"a.b.documents.azure.com", true},
		{"documents.azure.com", false},
		{".documents.azure.com", false},
		{"xdocuments.azure.com", false},
		{"evil.com", false},
		{"documents.azure.com.evil.com", false},
		{"acct.documents.azure.com.evil.com:443", false},
		{"acct.documents.azure.net", false},
		{"management.azure.com", true},
		{"management.azure.com:443", true},
		{"evil.management.azure.com", false},
		{"login.microsoftonline.com", true},
		{"login.microsoftonline.com.evil.com", false},
		{"localhost", true},
		{"localhost:8081", true},
		{"127.0.0.1", true},
		{"127.0.0.5", true},
		{"127.0.0.5:8081", true},
		{"[::1]:8081", true},
		{"::1", true},
		{"10.0.0.1", false},
		{"10.0.0.1:443", false},
		{"0.0.0.0", false},
		{"169.254.169.254", false},
		{"[::2]:8081", false},
		{"example.com", false},
		{"example.com:443", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := a.Allows(tc.host); got != tc.want {
			t.Errorf("allows(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

func TestAllowListExtraHosts(t *testing.T) {
	a, err := NewAllowList(append(append([]string{}, DefaultAllowedHosts...), " Example.com ", "*.Internal.Test", "emulator.local:8081", ""))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want bool
	}{
		{"example.com", true},
		{"example.com:8443", true},
		{"EXAMPLE.COM", true},
		{"sub.example.com", false}, // an exact name is not a suffix
		{"a.internal.test", true},
		{"a.b.internal.test:9", true},
		{"internal.test", false},
		{"emulator.local", true}, // a port in the pattern is ignored
		{"emulator.local:1", true},
		{"acct.documents.azure.com", true}, // defaults stay
		{"evil.com", false},
	}
	for _, tc := range tests {
		if got := a.Allows(tc.host); got != tc.want {
			t.Errorf("allows(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}

	// Without "loopback" no loopback address is allowed.
	noLoop, err := NewAllowList([]string{"*.documents.azure.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"127.0.0.1", "[::1]:8081", "localhost"} {
		if noLoop.Allows(h) {
			t.Errorf("allows(%q) without loopback", h)
		}
	}
}

func TestAllowListInvalidPatterns(t *testing.T) {
	for _, p := range []string{"https://acct.documents.azure.com", "acct.documents.azure.com/path", "*", "a*.documents.azure.com", "foo bar", "**.x"} {
		_, err := NewAllowList([]string{p})
		if err == nil {
			t.Errorf("pattern %q accepted", p)
			continue
		}
		if !strings.Contains(err.Error(), "want a host name, *.suffix or loopback") {
			t.Errorf("pattern %q: error %q does not say what is expected", p, err)
		}
	}
}
