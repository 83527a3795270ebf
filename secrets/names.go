package secrets

import (
	"bytes"
	"math"
	"regexp"
	"slices"
	"strings"
)

// secretNameWords are the words that make a field, header or parameter name a secret's
// (password, X-Api-Key, clientSecret, refresh_token...). Bare "key" and "token" are not among
// them: partitionKey, x-ms-session-token and continuation tokens are data.
const secretNameWords = `passw(?:or)?d|pwd|secret|api[_.-]?key|access[_.-]?key|account[_.-]?key|subscription[_.-]?key|` +
	`shared[_.-]?key|private[_.-]?key|master[_.-]?key|encryption[_.-]?key|signing[_.-]?key|functions?[_.-]?key|` +
	`credentials?|access[_.-]?token|refresh[_.-]?token|id[_.-]?token|auth[_.-]?token|sas[_.-]?token|` +
	`bearer[_.-]?token|security[_.-]?token|assertion`

// secretNameHints keep the named-secret expression off texts without any of the words.
var secretNameHints = []string{"pass", "pwd", "secret", "key", "token", "credential", "assertion"}

// namedValueChars is what a named secret's value may hold in free text; it ends at spaces,
// quotes, separators and the ':' and '#' of Cosmos session and continuation tokens.
const namedValueChars = `[A-Za-z0-9+/_~.!@$^*=-]`

// secretNameParts are secretNameWords as they read in a name lower-cased without separators.
var secretNameParts = []string{
	"password", "passwd", "pwd", "secret", "apikey", "accesskey", "accountkey", "subscriptionkey", "sharedkey",
	"privatekey", "masterkey", "encryptionkey", "signingkey", "functionkey", "functionskey", "credential",
	"accesstoken", "refreshtoken", "idtoken", "authtoken", "sastoken", "bearertoken", "securitytoken", "assertion",
}

var (
	namedValuePre = regexp.MustCompile(`^` + namedValueChars + `+`)
	guidRe        = regexp.MustCompile(`^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$`)
)

// SecretName reports whether a field, header or parameter name says its value is a secret: it
// ends with a secret's word (password, X-Api-Key, clientSecret, refresh_token, adminPassword1,
// secretValue), so that names that only describe one (secretName, keyVaultUri,
// client_assertion_type, id_token_signing_alg_values_supported) do not count.
func SecretName(name string) bool {
	if len(name) < 3 {
		return false
	}
	var buf [64]byte
	n := bytes.TrimRight(appendNormalized(buf[:0], name), "0123456789")
	for _, tail := range [][]byte{[]byte("values"), []byte("value"), []byte("s")} {
		if t := bytes.TrimSuffix(n, tail); len(t) < len(n) && endsWithSecretPart(t) {
			return true
		}
	}
	return endsWithSecretPart(n)
}

// secretPartsByLast are secretNameParts by their last byte.
var secretPartsByLast = func() (by [256][]string) {
	for _, p := range secretNameParts {
		by[p[len(p)-1]] = append(by[p[len(p)-1]], p)
	}
	return by
}()

func endsWithSecretPart(n []byte) bool {
	if len(n) == 0 {
		return false
	}
	return slices.ContainsFunc(secretPartsByLast[n[len(n)-1]], func(p string) bool { return bytes.HasSuffix(n, []byte(p)) })
}

// normalizeName lower-cases a name and drops '_', '-' and '.': client_secret, clientSecret and
// Client-Secret read alike.
func normalizeName(name string) string {
	return string(appendNormalized(nil, name))
}

func appendNormalized(b []byte, name string) []byte {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '-' || c == '.':
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return b
}

// isNamedSecretValue: what a generated secret looks like when only its name gives it away:
// at least ten characters, mixed, varied, not an id, a date or a placeholder.
func isNamedSecretValue(v string) bool {
	return len(v) >= 10 && !isPlaceholder(v) && !guidRe.MatchString(v) && mixedCase(v) && looksRandom(v) && entropy(v) >= 3
}

// isResidue: the tail or head of a secret next to a placeholder.
func isResidue(v string) bool {
	return strings.ContainsAny(v, "0123456789+/") && mixedCase(v) && looksRandom(v)
}

// entropy is the Shannon entropy of v in bits per character.
func entropy(v string) float64 {
	var counts [256]int
	for i := 0; i < len(v); i++ {
		counts[v[i]]++
	}
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(len(v))
			h -= p * math.Log2(p)
		}
	}
	return h
}

// namedRule is the rule a secret found by its name reports: client_secret keeps its own.
func namedRule(name string) string {
	if normalizeName(name) == "clientsecret" {
		return "client-secret"
	}
	return "named-secret"
}

// namedValid checks a value found by its name with the rule's own test.
func namedValid(rule, v string) bool {
	if rule == "client-secret" {
		return isClientSecret(v)
	}
	return isNamedSecretValue(v)
}

// keyWords and tokenWords are the words secretNameWords puts before "key" and "token" (a
// separator may stand between), and nameWords its words that stand alone: secretNameParts
// sorted three ways.
var keyWords, tokenWords, nameWords = func() (keys, tokens, names []string) {
	for _, p := range secretNameParts {
		if w, ok := strings.CutSuffix(p, "key"); ok {
			keys = append(keys, w)
		} else if w, ok := strings.CutSuffix(p, "token"); ok {
			tokens = append(tokens, w)
		} else {
			names = append(names, p)
		}
	}
	return keys, tokens, names
}()

// holdsSecretName reports whether lower, a text in ASCII lower case, holds one of
// secretNameWords: a quick test that keeps the named-secret expression off texts whose only
// "key" or "token" is a partition key or a session token.
// present is findHints(lower).
func holdsSecretName(lower []byte, present hintMask) bool {
	return present&nameMask != 0 || present&keyBit != 0 && wordBefore(lower, "key", keyWords) ||
		present&tokenBit != 0 && wordBefore(lower, "token", tokenWords)
}

// wordBefore reports whether some occurrence of word in lower follows one of before, directly
// or across one separator (_ . -).
func wordBefore(lower []byte, word string, before []string) bool {
	for off := 0; ; {
		i := bytes.Index(lower[off:], []byte(word))
		if i < 0 {
			return false
		}
		head := lower[:off+i]
		off += i + len(word)
		for range 2 {
			for _, b := range before {
				if bytes.HasSuffix(head, []byte(b)) {
					return true
				}
			}
			if len(head) == 0 || strings.IndexByte("_.-", head[len(head)-1]) < 0 {
				break
			}
			head = head[:len(head)-1]
		}
	}
}

// placeholderTouches reports whether a placeholder azvcr or test-proxy writes (REDACTED,
// Sanitized) has six base64 characters right after it (before is false) or right before it:
// what the partial-redaction expressions need to match.
func placeholderTouches(text string, before bool) bool {
	const residue = 6
	for _, p := range []string{"REDACTED", "Sanitized"} {
		for off := 0; ; {
			i := strings.Index(text[off:], p)
			if i < 0 {
				break
			}
			at := off + i
			off = at + 1
			var near string
			if before {
				near = text[max(at-residue, 0):at]
			} else {
				near = text[at+len(p) : min(at+len(p)+residue, len(text))]
			}
			if len(near) == residue && allStdB64(near) {
				return true
			}
		}
	}
	return false
}

// allStdB64: s is all [A-Za-z0-9+/].
func allStdB64(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isStdB64(s[i]) {
			return false
		}
	}
	return true
}

// isStdB64 is [A-Za-z0-9+/].
func isStdB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}
