package redact

import (
	"net/url"
	"strings"

	"github.com/azvcr/azvcr/cassette"
)

// The name lists: where a header, parameter or JSON key has one of these names, its whole value
// is a secret, whatever it looks like. Names are compared in any case. Cosmos DB's own fields
// (id, partitionKey, _rid, _self, _etag, _ts, keysMetadata) are on no list, and "code" is a
// parameter name only: ARM errors carry a JSON "code".
var (
	armKeyFields = []string{
		"primaryMasterKey", "secondaryMasterKey", "primaryReadonlyMasterKey", "secondaryReadonlyMasterKey",
		"primaryKey", "secondaryKey",
	}
	connectionStringParams = []string{"AccountKey", "SharedAccessKey", "SharedAccessSignature", "Password", "Pwd"}
	entraSecretParams      = []string{"client_secret", "client_assertion", "assertion", "refresh_token", "code", "password"}
	entraSecretFields      = []string{"client_secret", "clientSecret", "client_assertion", "clientAssertion", "password"}
	entraTokenNames        = []string{"access_token", "refresh_token", "id_token", "accessToken", "refreshToken", "idToken"}
	secretHeaders          = []string{
		"X-Api-Key", "Api-Key", "Ocp-Apim-Subscription-Key", "X-Functions-Key", "X-Ms-Encryption-Key",
		"X-Ms-Source-Encryption-Key", "X-Ms-Cosmos-Key", "X-Ms-Cosmos-Master-Key",
	}
	secretParams = []string{"sig", "api-key", "apikey", "api_key", "subscription-key", "password", "pwd", "secret"}
	secretFields = []string{"AccountKey", "sharedAccessKey", "apiKey", "api_key", "secret", "sig", "signature", "privateKey", "private_key"}
)

// nameRule replaces the whole value of the headers, parameters and JSON keys it names.
type nameRule struct {
	name    string
	headers nameList // header names
	params  nameList // query, fragment, form and connection-string parameters, and URL passwords
	fields  nameList // JSON keys, at any depth; only string values are replaced (keysMetadata's are objects)
	words   bool     // also every name secrets.SecretName recognises (password, X-Api-Key, clientSecret...)
	// idlePlaces are the places where the rule edits nothing (bit p), set by withIdle.
	idlePlaces uint8
}

func (n *nameRule) Name() string                        { return n.name }
func (n *nameRule) RedactRequest(r *cassette.Request)   { (&walker{rules: []valueRule{n}}).request(r) }
func (n *nameRule) RedactResponse(r *cassette.Response) { (&walker{rules: []valueRule{n}}).response(r) }

func (n *nameRule) redactValue(v *value) {
	var list nameList
	switch v.place {
	case inHeader:
		list = n.headers
	case inParam, inUserinfo:
		list = n.params
	case inJSON:
		list = n.fields
	default:
		return
	}
	if list.has(v.name) || (n.words && v.name != "" && isSecretName(v.name)) {
		v.replaceAll(Redacted)
	}
}

// shapeRule replaces whatever the secret detectors find (the rules azvcr lint reports) in every
// value: a Cosmos key in any JSON field or header, a JWT, a SAS signature in a URL inside a body.
type shapeRule struct{}

func (shapeRule) Name() string                          { return "secret-shapes" }
func (s shapeRule) RedactRequest(r *cassette.Request)   { (&walker{rules: []valueRule{s}}).request(r) }
func (s shapeRule) RedactResponse(r *cassette.Response) { (&walker{rules: []valueRule{s}}).response(r) }

func (shapeRule) redactValue(v *value) {
	name := v.name
	if v.place != inHeader && v.place != inParam && v.place != inJSON {
		name = ""
	}
	for _, m := range findValue(name, v.text) {
		v.replace(m.Start, m.End, Redacted)
	}
}

// authorizationRule blanks the credential of Authorization headers (and Proxy-Authorization,
// x-ms-authorization-auxiliary, x-ms-copy-source-authorization...) but keeps its kind, so a
// cassette still shows how a request was signed: Cosmos "type=master&ver=1.0&sig=REDACTED",
// "Bearer REDACTED", "Bearer REDACTED, Bearer REDACTED" for a list of auxiliary tokens.
type authorizationRule struct{}

func (authorizationRule) Name() string { return "authorization" }
func (a authorizationRule) RedactRequest(r *cassette.Request) {
	(&walker{rules: []valueRule{a}}).request(r)
}
func (a authorizationRule) RedactResponse(r *cassette.Response) {
	(&walker{rules: []valueRule{a}}).response(r)
}

func (authorizationRule) redactValue(v *value) {
	if v.place == inHeader && isAuthorizationHeader(v.name) {
		v.replaceAll(redactAuthorization(v.text))
	}
}

// isAuthorizationHeader: the name, lower-cased, is authorization or ends in -authorization or
// -authorization-auxiliary. No other letter lower-cases to one of theirs, so ASCII folding says
// the same without making the lower-case name.
func isAuthorizationHeader(name string) bool {
	return len(name) == len("authorization") && hasSuffixFoldASCII(name, "authorization") ||
		hasSuffixFoldASCII(name, "-authorization") || hasSuffixFoldASCII(name, "-authorization-auxiliary")
}

// hasSuffixFoldASCII reports whether s ends with the lower-case ASCII suffix, its letters in
// any case.
func hasSuffixFoldASCII(s, suffix string) bool {
	return len(s) >= len(suffix) && hasPrefixFold(s[len(s)-len(suffix):], suffix)
}

// nameList is a list of names compared in any case (strings.EqualFold).
type nameList struct {
	names []string
	lower map[string]bool // the names lower-cased, when all are ASCII
	lens  uint64          // with lower: bit n is set when a name is n bytes long (all set for a name of 64 or more)
}

func listOf(names ...string) nameList {
	l := nameList{names: names}
	if isASCII(strings.Join(names, "")) {
		l.lower = make(map[string]bool, len(names))
		for _, n := range names {
			l.lower[strings.ToLower(n)] = true
			if len(n) < 64 {
				l.lens |= 1 << len(n)
			} else {
				l.lens = ^uint64(0)
			}
		}
	}
	return l
}

// has reports whether s equals a name of the list, in any case. An ASCII name equals another
// ASCII name but for case exactly when their lower-case forms are equal; other texts are
// compared one by one.
func (l nameList) has(s string) bool {
	if len(l.names) == 0 {
		return false
	}
	var buf [64]byte
	if l.lower == nil || len(s) > len(buf) || !isASCII(s) {
		return containsFold(l.names, s)
	}
	if len(s) < 64 && l.lens&(1<<len(s)) == 0 {
		return false // ASCII texts equal but for case are as long
	}
	b := buf[:len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return l.lower[string(b)]
}

func redactAuthorization(v string) string {
	if strings.Contains(v, ",") && !strings.Contains(strings.ToLower(v), "sig") {
		parts := strings.Split(v, ",")
		for i, p := range parts {
			lead := p[:len(p)-len(strings.TrimLeft(p, " "))]
			parts[i] = lead + redactAuthorization(strings.TrimSpace(p))
		}
		return strings.Join(parts, ",")
	}
	if scheme, _, ok := strings.Cut(strings.TrimSpace(v), " "); ok && !strings.Contains(scheme, "=") {
		return scheme + " " + Redacted // Bearer, SharedKey, Basic, SharedAccessSignature...
	}
	decoded, err := url.QueryUnescape(v)
	if err != nil || !strings.Contains(strings.ToLower(decoded), "sig=") {
		return Redacted
	}
	var kept []string
	for _, part := range strings.Split(decoded, "&") {
		k, _, _ := strings.Cut(part, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "type", "ver":
			kept = append(kept, part)
		}
	}
	kept = append(kept, "sig="+Redacted)
	out := strings.Join(kept, "&")
	if strings.Contains(strings.ToLower(v), "%3d") { // it came URL-encoded, as Cosmos SDKs send it
		out = url.QueryEscape(out)
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
