package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// EmulatorKey is the Cosmos DB emulator's published master key, the default playback key: tests
// replaying with it need no real credential.
const EmulatorKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="

// signatureChecker recomputes Cosmos DB master-key signatures in replay, so that a test signing
// with the wrong key fails the way it would against the service.
type signatureChecker struct{ key []byte }

func newSignatureChecker(keyBase64 string) (*signatureChecker, error) {
	key, err := base64.StdEncoding.DecodeString(keyBase64)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("playback key is not a base64 Cosmos DB key")
	}
	return &signatureChecker{key: key}, nil
}

// cosmosSignature is the master-key signature over verb, resource type, resource link and date.
func cosmosSignature(key []byte, verb, resourceType, resourceLink, date string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(payloadToSign(verb, resourceType, resourceLink, date)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func payloadToSign(verb, resourceType, resourceLink, date string) string {
	return strings.ToLower(verb) + "\n" + strings.ToLower(resourceType) + "\n" + resourceLink + "\n" + strings.ToLower(date) + "\n\n"
}

// cosmosResource derives the resource type and link from a request path: an even number of
// segments names a resource (dbs/db1 → type dbs, link dbs/db1), an odd number a feed
// (dbs/db1/colls → type colls, link dbs/db1).
func cosmosResource(escapedPath string) (resourceType, resourceLink string) {
	path, err := url.PathUnescape(escapedPath)
	if err != nil {
		path = escapedPath
	}
	path = strings.Trim(path, "/")
	if path == "" {
		return "", ""
	}
	segs := strings.Split(path, "/")
	if len(segs)%2 == 0 {
		return segs[len(segs)-2], path
	}
	return segs[len(segs)-1], strings.Join(segs[:len(segs)-1], "/")
}

// authFields splits a Cosmos Authorization header ("type=master&ver=1.0&sig=..." URL-encoded).
// Values are split by hand: signatures are base64 and may hold '+'.
func authFields(header string) map[string]string {
	decoded, err := url.QueryUnescape(header)
	if err != nil {
		decoded = header
	}
	fields := map[string]string{}
	for _, part := range strings.Split(decoded, "&") {
		if k, v, ok := strings.Cut(part, "="); ok {
			fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return fields
}

// check returns nil when r is not master-key signed or its signature is right, else the 401 to
// answer with.
func (c *signatureChecker) check(r *http.Request) *http.Response {
	auth := r.Header.Get("Authorization")
	fields := authFields(auth)
	if !strings.EqualFold(fields["type"], "master") {
		return nil // resource tokens and Entra ID tokens are not signatures of the master key
	}
	date := r.Header.Get("X-Ms-Date")
	if date == "" {
		date = r.Header.Get("Date")
	}
	resType, resLink := cosmosResource(r.URL.EscapedPath())
	want := cosmosSignature(c.key, r.Method, resType, resLink, date)
	if hmac.Equal([]byte(fields["sig"]), []byte(want)) {
		return nil
	}
	payload := strings.ReplaceAll(payloadToSign(r.Method, resType, resLink, date), "\n", `\n`)
	body, _ := json.Marshal(map[string]string{
		"code": "Unauthorized",
		"message": "The input authorization token can't serve the request. The wrong key is being used or the expected payload is not built as per the protocol. " +
			"azvcr checked the signature against its playback key (--playback-key). Server used the following payload to sign: '" + payload + "'",
	})
	resp := BodyResponse(r, http.StatusUnauthorized, "application/json", body)
	resp.Header.Set(ErrorHeader, "master-key signature does not match the playback key")
	return resp
}
