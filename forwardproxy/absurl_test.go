package forwardproxy

import (
	"net/url"
	"reflect"
	"testing"
)

// FuzzAbsoluteURL: the URL built for a request target is the one url.Parse makes of the text.
func FuzzAbsoluteURL(f *testing.F) {
	for _, s := range [][2]string{
		{"acct.documents.azure.com:443", "/dbs/db/colls/c/docs?x=1"}, {"acct.documents.azure.com", "/"},
		{"h", "//double/slash"}, {"h:8081", "/a%2Fb?q=%zz"}, {"h", "/a#b"}, {"h", "/p?a#b"}, {"h", "/p?"},
		{"user@h", "/x"}, {"[::1]:443", "/x"}, {"h:", "/x"}, {"h:port", "/x"}, {"H.Example.COM", "/caf%C3%A9 x"},
		{"h", "*"}, {"h", "/a b"}, {"", "/x"}, {"h", "/%2e%2e/x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, authority, target string) {
		parsed, err := url.ParseRequestURI(target) // as http.ReadRequest reads a target
		if err != nil || parsed.IsAbs() {
			return
		}
		for _, scheme := range []string{"http", "https"} {
			want, wantErr := url.Parse(scheme + "://" + authority + parsed.String())
			got, gotErr := absoluteURL(scheme, authority, parsed)
			if (gotErr == nil) != (wantErr == nil) || gotErr == nil && !reflect.DeepEqual(got, want) {
				t.Errorf("%q %q: %#v %v, want %#v %v", authority, target, got, gotErr, want, wantErr)
			}
		}
	})
}
