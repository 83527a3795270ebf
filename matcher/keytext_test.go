package matcher

import (
	"encoding/hex"
	"hash/maphash"
	"net/url"
	"strings"
	"testing"
)

// keyByConcat is parts.key as first written, joining each header line before writing it: the
// reference the one that writes the pieces is held to.
func keyByConcat(p parts) string {
	var b strings.Builder
	b.WriteString(p.method)
	b.WriteByte(' ')
	b.WriteString(p.host)
	b.WriteString(p.path)
	b.WriteByte('?')
	b.WriteString(p.query.Encode())
	for _, h := range SignificantHeaders {
		if v := p.headers.get(h); v != "" {
			b.WriteString("\n" + h + ": " + v)
		}
	}
	if p.body.present {
		b.WriteString("\nbody " + hex.EncodeToString(p.body.sum[:]))
	}
	return b.String()
}

func TestKeyTextMatchesConcatenation(t *testing.T) {
	headers := []map[string]string{nil, {}}
	all := map[string]string{}
	for i, h := range SignificantHeaders {
		all[h] = strings.Repeat("v", i+1)
		headers = append(headers, map[string]string{h: "x: y\n"})
	}
	headers = append(headers, all)
	sums := []body{{}, {present: true}, {present: true, sum: [16]byte{0xff, 1, 0xab, 15: 0x10}}}
	x := &Index{seed: maphash.MakeSeed()}
	for _, h := range headers {
		for _, bd := range sums {
			p := parts{method: "POST", host: "https://a.documents.azure.com", path: "/dbs/d/colls/c/docs",
				query: url.Values{"b": {"2", "1"}, "a": {"x y"}}, headers: sigOf(h), body: bd}
			if got, want := p.key(), keyByConcat(p); got != want {
				t.Errorf("key() = %q, want %q", got, want)
			}
			if got, want := x.hashParts(p), x.hash(keyByConcat(p)); got != want {
				t.Errorf("hashParts of %q = %x, want the key's hash %x", keyByConcat(p), got, want)
			}
			if len(p.key()) != p.keyLen() {
				t.Errorf("keyLen = %d, the key is %d long", p.keyLen(), len(p.key()))
			}
		}
	}
}

// sigOf is a request's significant headers given by name.
func sigOf(byName map[string]string) (s sigHeaders) {
	for h, v := range byName {
		s[significant[h]-1] = v
	}
	return s
}
