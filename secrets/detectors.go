package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// A detector is one rule: a regular expression whose group "v" is the secret value and whose
// group "ctx", if any, is the context shown before the masked value in the excerpt, and a check
// that the value has the length and shape of the real thing.
type detector struct {
	rule string
	re   *lazyRegexp
	// hints are lower-case substrings one of which a text must contain for the rule to apply
	// (none: any text). They keep the regular expressions off texts they cannot match.
	hints    []string
	hintMask hintMask // the hints' bits (hints.go)
	// minRun, when set, is the length of the base64 run a text must hold for the rule to apply.
	minRun int
	// may, when set, is a quicker test than the expression that every text it matches passes
	// (given the text and its ASCII lower case): where hints are too common (a recording is full
	// of "Sanitized" and of *key and *token header names) it keeps the expression off the rest.
	may quickTest
	// notBefore and notAfter, when set, hold the characters that must not touch the value: a
	// base64 run inside a longer run is not a key.
	notBefore, notAfter string
	valid               func(kind, v string) bool
}

// quickTest names a detector's may test. (A switch, not a func value: a func value would make
// every text's lower-case buffer escape to the heap.)
type quickTest int

const (
	always quickTest = iota
	maySecretName
	residueAfter
	residueBefore
)

func (q quickTest) passes(text string, lower []byte, present hintMask) bool {
	switch q {
	case maySecretName:
		return holdsSecretName(lower, present)
	case residueAfter:
		return placeholderTouches(text, false)
	case residueBefore:
		return placeholderTouches(text, true)
	}
	return true
}

// detectors run in this order; a value found by one rule is not reported again by a later
// one (a Cosmos key after AccountKey= is a connection-string-key, a JWT after Bearer a
// bearer-token).
var detectors = []detector{
	{
		// Cosmos DB Authorization: type=master&ver=1.0&sig=<base64 HMAC-SHA256>, usually sent
		// URL-encoded; resource tokens and Entra ID (aad) tokens are signed differently.
		rule:  "cosmos-signature",
		re:    lazyCompile(`(?i)\b(?P<ctx>type=(?P<kind>master|resource|aad)&ver=[0-9.]{1,8}&sig=)(?P<v>[A-Za-z0-9+/_.;=-]+)`),
		hints: []string{"sig"},
		valid: isCosmosSig,
	},
	{
		// SAS tokens (Storage, Service Bus, Event Hubs): sig=<base64 HMAC-SHA256>.
		rule:  "sas-signature",
		re:    lazyCompile(`(?i)\b(?P<ctx>sig=)(?P<v>[A-Za-z0-9+/_-]+={0,2})`),
		hints: []string{"sig"},
		valid: func(_, v string) bool { return base64Len(v) == 32 && looksRandom(v) },
	},
	{
		// Connection strings: AccountKey= (Storage, Cosmos DB), SharedAccessKey= (Service Bus,
		// Event Hubs, IoT Hub).
		rule:  "connection-string-key",
		re:    lazyCompile(`(?i)\b(?P<ctx>(?:AccountKey|SharedAccessKey)=)(?P<v>[A-Za-z0-9+/_-]+={0,2})`),
		hints: []string{"accountkey=", "sharedaccesskey="},
		valid: func(_, v string) bool { return base64Len(v) >= 16 && looksRandom(v) },
	},
	{
		// Entra ID client secrets: in token request forms, JSON and YAML.
		rule:  "client-secret",
		re:    lazyCompile(`(?i)\b(?P<ctx>client_secret(?:=|["']?\s*:\s*["']?))(?P<v>` + secretChars + `+)`),
		hints: []string{"client_secret"},
		valid: func(_, v string) bool { return isClientSecret(v) },
	},
	{
		// Entra ID client secrets by their shape, wherever they are: three characters, a digit,
		// "Q~", then 31 to 34 more.
		rule:      "entra-client-secret",
		re:        lazyCompile(`(?P<v>[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})`),
		hints:     []string{"q~"},
		notBefore: entraChars,
		notAfter:  entraChars,
		valid:     func(_, v string) bool { return looksRandom(v) && mixedCase(v) },
	},
	{
		// Authorization: Bearer <token> (RFC 6750 b64token), also in lists such as
		// x-ms-authorization-auxiliary.
		rule:  "bearer-token",
		re:    lazyCompile(`(?i)\b(?P<ctx>Bearer)\s+(?P<v>[A-Za-z0-9._~+/-]+=*)`),
		hints: []string{"bearer"},
		valid: func(_, v string) bool { return len(v) >= 20 && !isPlaceholder(v) && mixedCase(v) && looksRandom(v) },
	},
	{
		// JWT: three base64url segments, the first two JSON objects.
		rule:      "jwt",
		re:        lazyCompile(`(?P<v>eyJ[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]*)`),
		hints:     []string{"eyj"},
		notBefore: b64URLChars,
		notAfter:  b64URLChars,
		valid:     func(_, v string) bool { return isJWT(v) },
	},
	{
		// Cosmos DB account key: 88 base64 characters decoding to exactly 64 bytes, standing alone.
		// (The start is anchored so that a long base64 run costs linear time.)
		rule:      "cosmos-key",
		re:        lazyCompile(`(?:^|[^A-Za-z0-9+/])(?P<v>[A-Za-z0-9+/]{86}==)`),
		minRun:    88,
		notBefore: b64Chars,
		notAfter:  b64Chars + "=",
		valid:     func(_, v string) bool { return base64Len(v) == 64 && looksRandom(v) },
	},
	{
		// A PEM private key (a client certificate's, say).
		rule:  "private-key",
		re:    lazyCompile(`(?P<ctx>-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY-----)(?P<v>[\sA-Za-z0-9+/=:,-]{40,}?)-----END`),
		hints: []string{"private key-----"},
		valid: func(_, v string) bool { return looksRandom(v) },
	},
	{
		// A value whose name says it is a secret (password=, "apiKey": ..., X-Api-Key: ...) and
		// that looks generated: long enough, mixed, varied.
		rule:  "named-secret",
		re:    lazyCompile(`(?i)(?P<ctx>(?P<kind>[A-Za-z0-9_.-]{0,40}(?:` + secretNameWords + `)[A-Za-z0-9_.-]{0,20})["']?\s*[:=]\s*["']?)(?P<v>` + namedValueChars + `{8,})`),
		hints: secretNameHints,
		may:   maySecretName,
		valid: func(name, v string) bool { return SecretName(name) && isNamedSecretValue(v) },
	},
	{
		// What is left of a secret beside a placeholder: a rule that stopped at an escape
		// (AccountKey=REDACTED\u002BoW7f...) replaced only part of the value.
		rule:  "partial-redaction",
		re:    lazyCompile(`(?P<ctx>REDACTED|Sanitized)(?P<v>[A-Za-z0-9+/]{6,}={0,2})`),
		hints: []string{"redacted", "sanitized"},
		may:   residueAfter,
		valid: func(_, v string) bool { return isResidue(v) },
	},
	{
		rule:      "partial-redaction",
		re:        lazyCompile(`(?P<v>[A-Za-z0-9+/]{6,})(?:REDACTED|Sanitized)`),
		hints:     []string{"redacted", "sanitized"},
		may:       residueBefore,
		notBefore: b64Chars + `\%`, // not the tail of an escape (\U0001F600REDACTED)
		valid:     func(_, v string) bool { return isResidue(v) },
	},
}

// Rules lists the lint rules in the order they run.
func Rules() []string {
	var out []string
	for _, d := range detectors {
		if !slices.Contains(out, d.rule) {
			out = append(out, d.rule)
		}
	}
	return out
}

// emulatorKey is the Cosmos DB emulator's well-known key, published by Microsoft (and azvcr's
// default playback key). It unlocks nothing and is not reported.
const emulatorKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="

// secretChars is what a client secret may hold: not space, quotes, separators, brackets
// (placeholders such as <secret> and ${SECRET}), or % (it is read URL-decoded).
const secretChars = `[^\s&"',;\\\[\]{}()<>%]`

const zeroGUID = "00000000-0000-0000-0000-000000000000"

const (
	b64Chars    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b64URLChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	entraChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-"
)

var (
	// A YAML key whose values follow as "- value" items: go-vcr's form map and headers.
	seqKeyLine = regexp.MustCompile(`^\s*(?:-\s+)?["']?([A-Za-z0-9_.-]+)["']?:\s*$`)
	pemBegin   = regexp.MustCompile(`-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY-----`)
	seqItem    = regexp.MustCompile(`^\s*-\s+("[^"]*"|'[^']*'|[^\s#"']\S*)`)
	// A YAML !!binary scalar: inline, or a block whose lines are indented deeper than its key.
	binaryTag = regexp.MustCompile(`^(\s*)(?:-\s+)?(?:[^\s#][^#]*?:\s+)?!!binary(?:\s+(.*?))?\s*$`)
)

// base64Len is the number of bytes v decodes to as base64 (standard or URL alphabet, padded or
// not, with no stray bits), or -1.
func base64Len(v string) int {
	raw := strings.TrimRight(v, "=")
	if len(v)-len(raw) > 2 {
		return -1
	}
	if len(v) != len(raw) && len(v)%4 != 0 {
		return -1 // padding in the wrong place
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(raw); err == nil {
			return len(b)
		}
	}
	return -1
}

// looksRandom rejects low-entropy fill such as AAAA...== or xxxx: a real key, signature or token
// uses many distinct characters.
func looksRandom(v string) bool {
	var seen [256]bool
	n := 0
	for i := 0; i < len(v); i++ {
		if !seen[v[i]] {
			seen[v[i]] = true
			n++
		}
	}
	return n >= min(10, len(v)/3)
}

// mixedCase wants at least two of lower case, upper case and digits, as generated secrets have and
// placeholders such as your-client-secret-here or authorization_uri= do not.
func mixedCase(v string) bool {
	var lo, up, dg int
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 'a' && c <= 'z':
			lo = 1
		case c >= 'A' && c <= 'Z':
			up = 1
		case c >= '0' && c <= '9':
			dg = 1
		}
	}
	return lo+up+dg >= 2
}

func isPlaceholder(v string) bool {
	u := strings.ToUpper(v)
	return strings.Contains(u, redactedPlaceholder) || strings.Contains(u, "PLACEHOLDER") || strings.Contains(v, zeroGUID)
}

func isClientSecret(v string) bool {
	return len(v) >= 16 && !isPlaceholder(v) && mixedCase(v) && looksRandom(v)
}

func isCosmosSig(kind, v string) bool {
	if kind == "master" {
		sig, _, _ := strings.Cut(v, ";")
		return base64Len(sig) == 32 && looksRandom(sig)
	}
	// Resource tokens and Entra ID tokens: long, and not a placeholder.
	return len(v) >= 32 && !isPlaceholder(v) && looksRandom(v)
}

func isEmulatorKey(v string) bool {
	return v == emulatorKey || v == strings.TrimRight(emulatorKey, "=")
}

// isJWT: the header and payload decode to JSON objects.
func isJWT(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts[:2] {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "="))
		if err != nil {
			return false
		}
		b = bytes.TrimSpace(b)
		if len(b) < 2 || b[0] != '{' || !json.Valid(b) {
			return false
		}
	}
	return true
}

// redactedPlaceholder is what azvcr's redaction writes in place of a secret.
const redactedPlaceholder = "REDACTED"
