package secrets_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/secrets"
)

// lintSecrets are realistic values made fresh from a fixed seed: nothing secret-shaped is
// committed, and a failure reproduces.
type lintSecrets struct {
	Key, Key2     string // Cosmos account keys: base64 of 64 random bytes, holding '+' and '/'
	CosmosSig     string // base64 HMAC-SHA256 over a Cosmos string-to-sign, with Key
	SASSig        string // base64 HMAC-SHA256 over a SAS string-to-sign
	SBKey         string // Service Bus SharedAccessKey: base64 of 32 bytes
	JWT           string // header.payload.signature, base64url
	Opaque        string // an opaque bearer token
	ClientSecret  string // Entra ID client secret, 42 characters with '~' and '.'
	EntraSecret   string // an Entra ID client secret of the real length (40), found by its shape
	PEMBody       string // the base64 lines of a PEM private key
	APIKey        string // a generated API key with nothing but its name to give it away
	Binary        string // base64 of a non-UTF-8 body holding AccountKey=<Key2>
	BinaryPayload []byte

	// Encoded forms for the template.
	CosmosAuthEncoded, KeyJSONEscaped, CosmosSigJSONEscaped, KeyDoubleEscaped string
	ClientSecretEncoded, SASSigEncoded                                        string
}

func newLintSecrets() *lintSecrets {
	r := rand.New(rand.NewChaCha8([32]byte{'a', 'z', 'v', 'c', 'r', ' ', 'l', 'i', 'n', 't'}))
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return b
	}
	key := func() (string, []byte) {
		for { // one with '+' and '/', so every encoding of it differs from the raw text
			raw := randBytes(64)
			k := base64.StdEncoding.EncodeToString(raw)
			if strings.Contains(k, "+") && strings.Contains(k, "/") {
				return k, raw
			}
		}
	}
	mac := func(key []byte, msg string) string {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	guid := func() string {
		b := randBytes(16)
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	}
	b64url := base64.RawURLEncoding.EncodeToString
	s := &lintSecrets{}
	var keyRaw []byte
	s.Key, keyRaw = key()
	s.Key2, _ = key()
	for {
		s.CosmosSig = mac(keyRaw, "get\ndocs\ndbs/db/colls/c/docs/a\nsat, 01 jan 2000 00:00:00 gmt\n\n")
		s.SASSig = mac(randBytes(64), "r\n\n2000-01-01T00:00:00Z\n/blob/acct/c/b.bin\n\n\n\n2022-11-02\nb\n")
		if strings.ContainsAny(s.CosmosSig, "+/") && strings.ContainsAny(s.SASSig, "+/") {
			break
		}
		keyRaw = randBytes(64)
	}
	s.SBKey = base64.StdEncoding.EncodeToString(randBytes(32))
	tenant := guid()
	s.JWT = b64url([]byte(`{"typ":"JWT","alg":"RS256","x5t":"`+b64url(randBytes(20))+`","kid":"`+b64url(randBytes(20))+`"}`)) + "." +
		b64url([]byte(`{"aud":"https://management.azure.com/","iss":"https://sts.windows.net/`+tenant+`/","iat":946684800,"nbf":946684800,"exp":946688400,"appid":"`+guid()+`","oid":"`+guid()+`","tid":"`+tenant+`"}`)) + "." +
		b64url(randBytes(256))
	s.Opaque = b64url(randBytes(32))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~._-"
	var cs []byte
	for len(cs) < 37 {
		cs = append(cs, alphabet[r.IntN(len(alphabet))])
	}
	s.ClientSecret = string(cs[:3]) + "8Q~" + string(cs[3:]) + ".~"
	s.EntraSecret = string(cs[:3]) + "8Q~" + string(cs[3:37])
	s.BinaryPayload = slices.Concat(randBytes(100), []byte{0xff, 0xfe, 0x00}, []byte("\nAccountKey="+s.Key2+";\n"), randBytes(100))
	s.Binary = base64.StdEncoding.EncodeToString(s.BinaryPayload)

	jsonEsc := strings.NewReplacer("/", `\/`, "+", `\u002b`)
	s.CosmosAuthEncoded = url.QueryEscape("type=master&ver=1.0&sig=" + s.CosmosSig)
	s.KeyJSONEscaped = jsonEsc.Replace(s.Key)
	s.CosmosSigJSONEscaped = jsonEsc.Replace(s.CosmosSig)
	s.KeyDoubleEscaped = strings.NewReplacer("/", `\\/`, "+", `\\u002b`).Replace(s.Key2)
	s.ClientSecretEncoded = strings.NewReplacer("~", "%7E", ".", "%2E").Replace(s.ClientSecret)
	s.SASSigEncoded = url.QueryEscape(s.SASSig)
	s.PEMBody = base64.StdEncoding.EncodeToString(randBytes(120))
	s.APIKey = hex.EncodeToString(randBytes(16))
	return s
}

func (s *lintSecrets) all() []string {
	return []string{s.Key, s.Key2, s.CosmosSig, s.SASSig, s.SBKey, s.JWT, s.Opaque, s.ClientSecret, s.EntraSecret, s.APIKey, s.PEMBody[:64]}
}

// lintGot renders findings as "line:rule", in order.
func lintGot(fs []secrets.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d:%s", f.Line, f.Rule))
	}
	return out
}

// checkMasked fails when a finding prints any 8 consecutive characters of a secret.
func checkMasked(t *testing.T, s *lintSecrets, fs []secrets.Finding) {
	t.Helper()
	for _, f := range fs {
		text := f.String()
		for _, secret := range s.all() {
			for i := 0; i+8 <= len(secret); i++ {
				if strings.Contains(text, secret[i:i+8]) {
					t.Fatalf("finding %q shows part of a secret (%q)", text, secret[i:i+8])
				}
			}
		}
	}
}

// longBase64Tail is a long base64 text whose last 88 characters are key, right after a '/'.
func longBase64Tail(key string) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xef, 0xbe}, 40)) + "/" + key
}

const zeroGUIDForTest = "00000000-0000-0000-0000-000000000000"

func TestLintRules(t *testing.T) {
	s := newLintSecrets()
	encKey := url.QueryEscape(s.Key)
	emulator := "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
	sig16 := base64.StdEncoding.EncodeToString([]byte("sixteen bytes!!!"))
	fill := strings.Repeat("A", 86) + "=="
	noJSON := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name, text string
		want       []string
	}{
		// cosmos-key
		{"key in JSON", `{"primaryMasterKey":"` + s.Key + `"}`, []string{"1:cosmos-key"}},
		{"key JSON-escaped", `body: '{"k":"` + strings.NewReplacer("/", `\/`, "+", `\u002b`).Replace(s.Key) + `"}'`, []string{"1:cosmos-key"}},
		{"key URL-encoded", "url: https://h/x?key=" + encKey + "&a=b", []string{"1:cosmos-key"}},
		{"key as a one-line !!binary of exactly 64 bytes", "body: !!binary " + s.Key, []string{"1:cosmos-key"}},
		{"key on line 3 of CRLF text", "a: 1\r\nb: 2\r\nc: " + s.Key + "\r\n", []string{"3:cosmos-key"}},
		{"no: zero fill", "k: " + fill, nil},
		{"no: inside a longer base64 run", "k: AB" + s.Key, nil},
		{"no: followed by more base64", "k: " + s.Key + "AB", nil},
		{"no: 48 bytes", "k: " + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 3)), nil},
		{"no: stray bits, not base64 of 64 bytes", "k: " + s.Key[:85] + "B==", nil},
		{"no: the public emulator key", "AccountEndpoint=https://localhost:8081/;AccountKey=" + emulator + ";", nil},
		{"no: REDACTED", `{"primaryMasterKey":"REDACTED"}`, nil},

		// jwt
		{"jwt in a token response", `{"token_type":"Bearer","access_token":"` + s.JWT + `"}`, []string{"1:jwt"}},
		{"jwt as client_assertion", "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" + s.JWT, []string{"1:jwt"}},
		{"no: one segment (a continuation token)", `x: ` + noJSON([]byte(`{"token":"+RID:gAAB#RT:1","range":{"min":"","max":"FF"}}`)), nil},
		{"no: payload is not JSON", "x: " + noJSON([]byte(`{"alg":"none"}`)) + "." + noJSON([]byte("just some bytes here")) + ".c2ln", nil},
		{"no: part of a longer token", "x: abc-" + s.JWT[:0] + "x" + s.JWT, nil},
		{"no: REDACTED", `{"access_token":"REDACTED","id_token":"REDACTED"}`, nil},

		// cosmos-signature
		{"cosmos signature", "- type=master&ver=1.0&sig=" + s.CosmosSig, []string{"1:cosmos-signature"}},
		{"cosmos signature URL-encoded", "- " + url.QueryEscape("type=master&ver=1.0&sig="+s.CosmosSig), []string{"1:cosmos-signature"}},
		{"cosmos signature URL-encoded twice", "- " + url.QueryEscape(url.QueryEscape("type=master&ver=1.0&sig="+s.CosmosSig)), []string{"1:cosmos-signature"}},
		{"cosmos resource token", "- type=resource&ver=1.0&sig=" + s.SBKey + ";" + s.Opaque + ";", []string{"1:cosmos-signature"}},
		{"no: redacted, as azvcr writes it", "- type%3Dmaster%26ver%3D1.0%26sig%3DREDACTED", nil},
		{"no: short placeholder", "- type=master&ver=1.0&sig=abc", nil},
		{"no: 16 bytes", "- type=master&ver=1.0&sig=" + sig16, nil},

		// connection-string-key
		{"AccountKey", "AccountEndpoint=https://acct.documents.azure.com:443/;AccountKey=" + s.Key + ";", []string{"1:connection-string-key"}},
		{"SharedAccessKey", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=" + s.SBKey, []string{"1:connection-string-key"}},
		{"AccountKey URL-encoded", "cs=" + url.QueryEscape("DefaultEndpointsProtocol=https;AccountName=a;AccountKey="+s.Key2), []string{"1:connection-string-key"}},
		{"AccountKey JSON-escaped", `{"connectionString":"AccountKey=` + strings.NewReplacer("/", `\/`, "+", `\u002b`).Replace(s.Key2) + `;"}`, []string{"1:connection-string-key"}},
		{"no: REDACTED", "AccountEndpoint=https://acct.documents.azure.com:443/;AccountKey=REDACTED;", nil},
		{"no: placeholders", "AccountKey=<your-key>; SharedAccessKey=xxxx; AccountKey=${KEY}", nil},
		{"no: SharedAccessKeyName", "SharedAccessKeyName=RootManageSharedAccessKey", nil},

		// client-secret
		{"client_secret in a form body", "grant_type=client_credentials&client_id=x&client_secret=" + s.ClientSecret + "&scope=s", []string{"1:client-secret"}},
		{"client_secret URL-encoded", "client_secret=" + strings.NewReplacer("~", "%7E", ".", "%2E").Replace(s.ClientSecret), []string{"1:client-secret"}},
		{"client_secret%3D in a query", "u=" + url.QueryEscape("client_secret="+s.ClientSecret), []string{"1:client-secret"}},
		{"client_secret in JSON", `{"client_secret": "` + s.ClientSecret + `"}`, []string{"1:client-secret"}},
		{"client_secret in a go-vcr form map", "    form:\n      client_secret:\n        - " + s.ClientSecret + "\n      scope:\n        - x", []string{"3:client-secret"}},
		{"no: REDACTED", "client_secret=REDACTED&scope=x", nil},
		{"no: REDACTED in a form map", "form:\n  client_secret:\n    - REDACTED\n  client_id:\n    - 00000000-0000-0000-0000-000000000000", nil},
		{"no: placeholders", `client_secret=your-client-secret-here&client_secret=${CLIENT_SECRET}&client_secret=short {"client_secret":"<secret>"}`, nil},

		// bearer-token
		{"opaque bearer", "- Bearer " + s.Opaque, []string{"1:bearer-token"}},
		{"bearer JWT is one finding", "- Bearer " + s.JWT, []string{"1:bearer-token"}},
		{"no: REDACTED", "- Bearer REDACTED", nil},
		{"no: WWW-Authenticate challenge", `- Bearer authorization_uri="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", error="invalid_token"`, nil},
		{"no: token_type", `{"token_type":"Bearer","expires_in":3599}`, nil},
		{"no: short", "- Bearer abc123", nil},

		// sas-signature
		{"blob SAS URL", "url: https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sp=r&sig=" + url.QueryEscape(s.SASSig), []string{"1:sas-signature"}},
		{"SAS sig unencoded", "?se=2000-01-01&sig=" + s.SASSig + "&sp=r", []string{"1:sas-signature"}},
		{"Service Bus SAS", "- SharedAccessSignature sr=sb%3A%2F%2Fns&sig=" + url.QueryEscape(s.SASSig) + "&se=1&skn=Root", []string{"1:sas-signature"}},
		{"no: sig=REDACTED", "url: https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=REDACTED", nil},
		{"no: short", "?sig=abc", nil},
		{"no: 16 bytes", "?sig=" + url.QueryEscape(sig16), nil},
		{"no: a word ending in sig", "?xsig=" + url.QueryEscape(s.SASSig), nil},

		// entra-client-secret
		{"Entra secret by its shape", `{"note":"` + s.EntraSecret + `"}`, []string{"1:entra-client-secret"}},
		{"Entra secret in a URL", "url: https://h/x?c=" + url.QueryEscape(s.EntraSecret), []string{"1:entra-client-secret"}},
		{"no: longer than an Entra secret", "x: " + s.EntraSecret + "abcdef", nil},

		// private-key
		{"PEM key in a JSON body", `body: '{"pem":"-----BEGIN PRIVATE KEY-----\n` + s.PEMBody[:64] + `\n` + s.PEMBody[64:] + `\n-----END PRIVATE KEY-----\n"}'`, []string{"1:private-key"}},
		{"PEM key in a block scalar", "body: |\n    -----BEGIN RSA PRIVATE KEY-----\n    " + s.PEMBody[:64] + "\n    " + s.PEMBody[64:] + "\n    -----END RSA PRIVATE KEY-----\n", []string{"2:private-key"}},
		{"no: a public key", "-----BEGIN PUBLIC KEY-----\n" + s.PEMBody + "\n-----END PUBLIC KEY-----", nil},

		// named-secret
		{"apiKey in JSON", `{"apiKey":"` + s.APIKey + `"}`, []string{"1:named-secret"}},
		{"password in a form", "user=a&password=" + s.Opaque[:20] + "&x=1", []string{"1:named-secret"}},
		{"X-Api-Key header in a cassette", "    headers:\n      X-Api-Key:\n        - " + s.APIKey + "\n      Accept:\n        - " + s.APIKey, []string{"3:named-secret"}},
		{"no: names that describe a secret", `{"secretName":"` + s.APIKey + `","keyVaultUri":"` + s.APIKey + `","passwordLastChanged":"` + s.APIKey + `"}`, nil},
		{"no: data keys", `{"partitionKey":"` + s.APIKey + `","token":"` + s.APIKey + `","x-ms-session-token":"` + s.APIKey + `"}`, nil},
		{"no: short, GUID, placeholder", `{"password":"hunter2","apiKey":"` + zeroGUIDForTest + `","clientSecret":"REDACTED","pwd":"<password>"}`, nil},

		{"key between path slashes", `{"path":"/dbs/db/keys/` + s.Key + `/x"}`, []string{"1:cosmos-key"}},
		{"no: the tail of a long base64 text after a slash", "x: " + longBase64Tail(s.Key), nil},

		// partial-redaction
		{"placeholder with the key's tail", `{"cs":"AccountKey=REDACTED\u002B` + s.Key[10:] + `;"}`, []string{"1:partial-redaction"}},
		{"placeholder after the signature's head", "?sig=" + s.SASSig[:12] + "REDACTED", []string{"1:partial-redaction"}},
		{"no: placeholders with separators", "sig=REDACTED&se=1 https://Sanitized.documents.azure.com/ AccountKey=REDACTED; Bearer REDACTED, REDACTEDVALUE", nil},

		// base64
		{"connection string inside base64", "x: " + base64.StdEncoding.EncodeToString([]byte(`{"cs":"AccountKey=`+s.Key2+`;"}`)), []string{"1:connection-string-key"}},
		{"jwt inside base64, offset 1", "x: " + base64.StdEncoding.EncodeToString([]byte(`a `+s.JWT)), []string{"1:jwt"}},
		{"client secret inside base64url, offset 2", "x: " + base64.RawURLEncoding.EncodeToString([]byte(`ab client_secret=`+s.ClientSecret)), []string{"1:client-secret"}},

		// several
		{"two rules on one line, lines exact", "version: 2\n# nothing here\nx: " + s.Key + " y: Bearer " + s.Opaque + "\n\nz: ?sig=" + s.SASSig,
			[]string{"3:bearer-token", "3:cosmos-key", "5:sas-signature"}},
		{"no: the zero GUID and dates", "X-Ms-Activity-Id: 00000000-0000-0000-0000-000000000000\nDate: Sat, 01 Jan 2000 00:00:00 GMT", nil},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := secrets.Lint("t.yaml", []byte(tt.text))
			if got := lintGot(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q; findings:\n%v", got, tt.want, fs)
			}
			checkMasked(t, s, fs)
			for _, f := range fs {
				covered[f.Rule] = true
			}
		})
	}
	for _, rule := range secrets.Rules() {
		if !covered[rule] {
			t.Errorf("rule %s has no positive case", rule)
		}
	}
}

func TestLintExcerptMasksTheValue(t *testing.T) {
	s := newLintSecrets()
	text := "x: 1\nAccountEndpoint=https://a/;AccountKey=" + s.Key + ";\n- " + url.QueryEscape("type=master&ver=1.0&sig="+s.CosmosSig)
	fs := secrets.Lint("dir/c.yaml", []byte(text))
	want := []string{
		"dir/c.yaml:2: connection-string-key: AccountKey=" + s.Key[:4] + "…(88 chars)",
		"dir/c.yaml:3: cosmos-signature: type=master&ver=1.0&sig=" + s.CosmosSig[:4] + "…(44 chars, URL-encoded)",
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.String())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	checkMasked(t, s, fs)
}

// TestLintLeakyCassette fills testdata/lint/leaky.yaml.tmpl with fresh secrets: lint reports
// exactly the lines marked "# want:", with the rules named there, and never prints a secret.
func TestLintLeakyCassette(t *testing.T) {
	s := newLintSecrets()
	tmpl := template.Must(template.ParseFiles(filepath.Join("testdata", "leaky.yaml.tmpl")))
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, s); err != nil {
		t.Fatal(err)
	}
	c, err := cassette.Parse("leaky.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("the filled template is not a cassette: %v", err)
	}
	if got := c.Interactions[4].Response.Body; got != string(s.BinaryPayload) {
		t.Fatalf("binary body did not round-trip")
	}
	var want []string
	wantRe := regexp.MustCompile(`# want: (\S+)\s*$`)
	for i, line := range strings.Split(buf.String(), "\n") {
		if m := wantRe.FindStringSubmatch(line); m != nil {
			rules := strings.Split(m[1], ",")
			// Findings on one line come in rule order.
			slices.SortStableFunc(rules, func(a, b string) int {
				return slices.Index(secrets.Rules(), a) - slices.Index(secrets.Rules(), b)
			})
			for _, r := range rules {
				want = append(want, fmt.Sprintf("%d:%s", i+1, r))
			}
		}
	}
	fs := secrets.Lint("leaky.yaml", buf.Bytes())
	if got := lintGot(fs); !slices.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q\nfindings:\n%v", got, want, fs)
	}
	checkMasked(t, s, fs)
	for _, f := range fs {
		t.Log(f)
	}
	if fs := secrets.Lint("leaky.yaml.tmpl", readLintFile(t, filepath.Join("testdata", "leaky.yaml.tmpl"))); len(fs) != 0 {
		t.Errorf("the template itself holds something secret-shaped: %v", fs)
	}
}

// TestLintCleanCassettes: near misses, everything azvcr's redaction writes, and the shipped
// cassette recorded from real SDK traffic are clean.
func TestLintCleanCassettes(t *testing.T) {
	for _, path := range []string{
		filepath.Join("testdata", "clean.yaml"),
		filepath.Join("..", "fixtures", "cassettes", "cosmos-e2e.yaml"),
		filepath.Join("..", "cassette", "testdata", "govcr_v2.yaml"),
	} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := readLintFile(t, path)
			if _, err := cassette.Parse(path, data); err != nil {
				t.Fatalf("not a cassette: %v", err)
			}
			if fs := secrets.Lint(path, data); len(fs) != 0 {
				t.Fatalf("findings in a clean cassette:\n%v", fs)
			}
		})
	}
}

// TestLintBinaryBodies: bodies azvcr writes as !!binary (base64 wrapped at 70 columns) do not look
// like keys, whatever their length, and a secret inside one is found on the line that encodes it.
func TestLintBinaryBodies(t *testing.T) {
	s := newLintSecrets()
	r := rand.New(rand.NewChaCha8([32]byte{'b', 'i', 'n'}))
	c := &cassette.Cassette{Version: cassette.Version}
	for i, n := range []int{44, 63, 64, 65, 66, 96, 128, 300, 5000} {
		body := make([]byte, n)
		for j := range body {
			body[j] = byte(r.UintN(256))
		}
		body[0] = 0xff // never UTF-8
		c.Interactions = append(c.Interactions, &cassette.Interaction{ID: i,
			Request:  cassette.Request{Method: "PUT", URL: "https://acct.blob.core.windows.net/c/b", Body: string(body)},
			Response: cassette.Response{Code: 201, Status: "201 Created"}})
	}
	c.Interactions = append(c.Interactions, &cassette.Interaction{ID: 99,
		Request:  cassette.Request{Method: "PUT", URL: "https://acct.blob.core.windows.net/c/b", Body: string(s.BinaryPayload)},
		Response: cassette.Response{Code: 201, Status: "201 Created"}})
	path := filepath.Join(t.TempDir(), "binary.yaml")
	if err := cassette.Save(path, c); err != nil {
		t.Fatal(err)
	}
	data := readLintFile(t, path)
	if n := bytes.Count(data, []byte("!!binary")); n != len(c.Interactions) {
		t.Fatalf("%d !!binary bodies written, want %d", n, len(c.Interactions))
	}
	fs, err := secrets.LintFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The key inside the last body: the line holding the base64 of its first byte.
	lines := strings.Split(string(data), "\n")
	tag := 0
	for i, l := range lines {
		if strings.Contains(l, "!!binary") {
			tag = i + 1 // 1-based line of the last !!binary
		}
	}
	off := bytes.Index(s.BinaryPayload, []byte(s.Key2))
	wantLine := tag + 1 + (off/3*4)/len(strings.TrimSpace(lines[tag]))
	want := []string{fmt.Sprintf("%d:connection-string-key", wantLine)}
	if got := lintGot(fs); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q: %v", got, want, fs)
	}
	if !strings.HasSuffix(fs[0].Excerpt, "in !!binary") {
		t.Errorf("excerpt %q does not say the secret is in a binary body", fs[0].Excerpt)
	}
	checkMasked(t, s, fs)
}

func TestLintFileErrors(t *testing.T) {
	if _, err := secrets.LintFile(filepath.Join(t.TempDir(), "none.yaml")); !os.IsNotExist(err) {
		t.Fatalf("missing file: err %v", err)
	}
	// Not a cassette at all: still linted, line by line.
	s := newLintSecrets()
	fs := secrets.Lint("notes.txt", []byte("interactions: [\n  unclosed\nBearer "+s.Opaque+"\n"))
	if got := lintGot(fs); !slices.Equal(got, []string{"3:bearer-token"}) {
		t.Fatalf("malformed file: got %q", got)
	}
	if got := (secrets.Finding{File: "f.yaml", Line: 7, Rule: "jwt", Excerpt: "eyJh…(900 chars)"}).String(); got != "f.yaml:7: jwt: eyJh…(900 chars)" {
		t.Fatalf("String() = %q", got)
	}
}

func readLintFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A long file is linted over several cores: its findings are those of each part on its own, in
// file order.
func TestLintLongFileAsItsParts(t *testing.T) {
	s := newLintSecrets()
	tmpl := template.Must(template.ParseFiles(filepath.Join("testdata", "leaky.yaml.tmpl")))
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, s); err != nil {
		t.Fatal(err)
	}
	part := buf.String()
	if !strings.HasSuffix(part, "\n") {
		part += "\n"
	}
	lines := strings.Count(part, "\n")
	one := secrets.Lint("part.yaml", []byte(part))
	const copies = 60
	var want []secrets.Finding
	for k := range copies {
		for _, f := range one {
			f.File, f.Line = "long.yaml", f.Line+k*lines
			want = append(want, f)
		}
	}
	got := secrets.Lint("long.yaml", []byte(strings.Repeat(part, copies)))
	if len(one) == 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("%d findings in one part; got %d findings in %d parts, want %d", len(one), len(got), copies, len(want))
	}
}
