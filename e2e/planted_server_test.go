package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/fixtures/fakearm"
	"github.com/azvcr/azvcr/fixtures/testcerts"
)

// Hosts the crafted upstream answers for: services no real client here talks to, or answers no
// real server here gives (.NET's escapes, gzip, binary, SAS URLs in bodies).
const (
	blobHost    = "acct.blob.core.windows.net"
	busHost     = "ns.servicebus.windows.net"
	craftedHost = "crafted.documents.azure.com"
)

// plantedValues are fresh secrets of every kind, by name. Each is unique, so a leak names it.
type plantedValues map[string]string

func newPlantedValues() plantedValues {
	p := plantedValues{}
	key := func() string { return base64.StdEncoding.EncodeToString(randomN(64)) }
	sig := func() string { return base64.StdEncoding.EncodeToString(randomN(32)) }
	for _, n := range []string{"K0 master key", "K1 key in x-ms-cosmos header", "K2 key in a document (\\u002B, \\/)", "K3 AccountKey\\u003d in a document",
		"K4 key deep in a document", "K5 key beside surrogate pairs", "K6 key in a binary body", "K7 .NET listConnectionStrings (\\u002B)",
		"K8 .NET AccountKey\\u003d", "K9 primaryMasterKey (\\/)", "K10 key in gzip without Content-Encoding", "K11 key in a URL path"} {
		p[n] = keyWithPlusAndSlash(key)
	}
	for _, n := range []string{"S1 SAS sig in a document", "S2 SAS sig in a request URL", "S3 SAS sig in a gzip request body",
		"S4 SAS URL in a response body", "S5 Service Bus SharedAccessSignature", "S6 SAS sig in a Location header"} {
		p[n] = keyWithPlusAndSlash(sig)
	}
	for _, n := range []string{"J1 auxiliary token 1", "J2 auxiliary token 2", "J3 JWT in a document", "J4 client assertion (form without Content-Type)",
		"J5 access_token", "J6 id_token", "J7 JWT in a custom response header", "J8 access_token in a query string"} {
		p[n] = fakearm.NewSecrets().AccessToken
	}
	for _, n := range []string{"C1 clientSecret in a document", "C2 client_secret in a form without Content-Type", "C3 client_secret in a query string",
		"C4 client_secret in a base64 body", "C5 client_secret in a form inside JSON", "E1 Entra secret in plain text"} {
		p[n] = fakearm.NewSecrets().ClientSecret
	}
	for _, n := range []string{"A1 X-Api-Key", "A2 apikey query parameter", "A3 Ocp-Apim-Subscription-Key", "A4 cookie"} {
		p[n] = hex.EncodeToString(randomN(16))
	}
	for _, n := range []string{"R1 refresh_token in a form", "R2 refresh_token in a response", "R3 code in a URL inside a body",
		"P1 password in a gzip request body", "P2 password in a URL's user info"} {
		p[n] = base64.RawURLEncoding.EncodeToString(randomN(30))
	}
	p["PEM private key"] = base64.StdEncoding.EncodeToString(randomN(600))
	return p
}

func randomN(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// keyWithPlusAndSlash draws until the base64 holds '+' and '/', so every escape matters.
func keyWithPlusAndSlash(draw func() string) string {
	for {
		if k := draw(); strings.Contains(k, "+") && strings.Contains(k, "/") {
			return k
		}
	}
}

// dotnetEscape writes a value as .NET's System.Text.Json does ('+' as \u002B) with '/' as \/.
func dotnetEscape(s string) string {
	return strings.NewReplacer("+", `\u002B`, "/", `\/`).Replace(s)
}

// craftedUpstream answers the crafted requests with the planted secrets where real services put
// such values.
type craftedUpstream struct {
	srv    *httptest.Server
	caFile string
}

func startCraftedUpstream(t *testing.T, p plantedValues) *craftedUpstream {
	t.Helper()
	pair, err := testcerts.New("azvcr crafted upstream CA", blobHost, busHost, craftedHost)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "crafted-ca.pem")
	if err := os.WriteFile(caFile, pair.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		craftedAnswer(w, r, p)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair.Leaf}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &craftedUpstream{srv: srv, caFile: caFile}
}

func (c *craftedUpstream) addr() string { return strings.TrimPrefix(c.srv.URL, "https://") }

func craftedAnswer(w http.ResponseWriter, r *http.Request, p plantedValues) {
	h := w.Header()
	switch r.URL.Path {
	case "/tenant/oauth2/v2.0/token":
		h.Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"%s","refresh_token":"%s","id_token":"%s"}`,
			p["J5 access_token"], p["R2 refresh_token in a response"], p["J6 id_token"])
	case "/c/b.bin":
		h.Set("Content-Type", "application/octet-stream")
		h.Set("X-Debug-Token", p["J7 JWT in a custom response header"])
		w.Write(append(append([]byte{0xff, 0xfe, 0x00, 0x81}, "\nAccountKey="+p["K6 key in a binary body"]+";\n"...), randomN(64)...))
	case "/listConnectionStrings":
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Content-Encoding", "gzip")
		body := `{"connectionStrings":[{"connectionString":"AccountEndpoint=https:\/\/x.documents.azure.com:443\/;AccountKey=` + dotnetEscape(p["K7 .NET listConnectionStrings (\\u002B)"]) +
			`;","description":"Primary SQL Connection String","keyKind":"Primary","type":"Sql"},{"connectionString":"AccountEndpoint=https:\/\/x.documents.azure.com:443\/;AccountKey\u003d` +
			dotnetEscape(p["K8 .NET AccountKey\\u003d"]) + `;","description":"Secondary SQL Connection String"}],"primaryMasterKey":"` + strings.ReplaceAll(p["K9 primaryMasterKey (\\/)"], "/", `\/`) + `"}`
		w.Write(gzipBytes(body))
	case "/upload":
		h.Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"url":"https:\/\/%s\/c\/b?sv=2022-11-02&sr=b&sig=%s&se=2000-01-01","nextLink":"https:\/\/%s\/next?code=%s&x=1"}`,
			blobHost, url.QueryEscape(p["S4 SAS URL in a response body"]), craftedHost, p["R3 code in a URL inside a body"])
	case "/raw":
		h.Set("Content-Type", "application/gzip")
		w.Write(gzipBytes("AccountEndpoint=https://x.documents.azure.com:443/;AccountKey=" + p["K10 key in gzip without Content-Encoding"] + ";"))
	case "/q":
		h.Set("Location", "https://"+busHost+"/q/messages?se=1&sig="+url.QueryEscape(p["S6 SAS sig in a Location header"])+"&skn=Root")
		w.WriteHeader(http.StatusCreated)
	case "/pem":
		h.Set("Content-Type", "application/json")
		pem, _ := json.Marshal("-----BEGIN PRIVATE KEY-----\n" + wrap(p["PEM private key"], 64) + "\n-----END PRIVATE KEY-----\n")
		fmt.Fprintf(w, `{"kid":"https://vault/keys/k","pem":%s}`, pem)
	case "/note":
		h.Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "Your new client secret is %s. Store it now.\n", p["E1 Entra secret in plain text"])
	default:
		h.Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":true,"path":%q}`, r.URL.Path)
	}
}

func wrap(s string, n int) string {
	var lines []string
	for len(s) > n {
		lines, s = append(lines, s[:n]), s[n:]
	}
	return strings.Join(append(lines, s), "\n")
}

func gzipBytes(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// craftedRequest is one request the test sends through azvcr.
type craftedRequest struct {
	method, url string
	header      http.Header
	body        []byte
}

// craftedRequests place secrets where clients put them: forms without a Content-Type, query
// strings, custom headers, gzip and base64 request bodies, URLs and forms inside JSON.
func craftedRequests(p plantedValues) []craftedRequest {
	form := "grant_type=client_credentials&client_id=app&client_secret=" + url.QueryEscape(p["C2 client_secret in a form without Content-Type"]) +
		"&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" + p["J4 client assertion (form without Content-Type)"] +
		"&refresh_token=" + p["R1 refresh_token in a form"] + "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
	return []craftedRequest{
		{"POST", "https://" + craftedHost + "/tenant/oauth2/v2.0/token", http.Header{}, []byte(form)},
		{"GET", "https://" + blobHost + "/c/b.bin?sv=2022-11-02&sr=b&sp=r&sig=" + url.QueryEscape(p["S2 SAS sig in a request URL"]) +
			"&client_secret=" + url.QueryEscape(p["C3 client_secret in a query string"]) + "&apikey=" + p["A2 apikey query parameter"] +
			"&access_token=" + p["J8 access_token in a query string"],
			http.Header{"Ocp-Apim-Subscription-Key": {p["A3 Ocp-Apim-Subscription-Key"]}, "Cookie": {"session=" + p["A4 cookie"]}}, nil},
		{"POST", "https://" + craftedHost + "/listConnectionStrings", http.Header{"Accept-Encoding": {"gzip"}}, nil},
		{"POST", "https://" + blobHost + "/upload", http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}},
			gzipBytes(`{"password":"` + p["P1 password in a gzip request body"] + `","blobUrl":"https://` + blobHost + `/c/b?sig=` + url.QueryEscape(p["S3 SAS sig in a gzip request body"]) + `&se=1"}`)},
		{"PUT", "https://" + craftedHost + "/raw", http.Header{"Content-Type": {"text/plain"}},
			[]byte(base64.StdEncoding.EncodeToString([]byte(`{"client_secret":"` + p["C4 client_secret in a base64 body"] + `"}`)))},
		{"PUT", "https://" + busHost + "/q", http.Header{"Authorization": {"SharedAccessSignature sr=sb%3A%2F%2F" + busHost + "%2Fq&sig=" +
			url.QueryEscape(p["S5 Service Bus SharedAccessSignature"]) + "&se=946688400&skn=RootManageSharedAccessKey"}}, []byte("hello")},
		{"POST", "https://" + craftedHost + "/settings", http.Header{"Content-Type": {"application/json"}},
			[]byte(`{"form":"a=1&client_secret=` + url.QueryEscape(p["C5 client_secret in a form inside JSON"]) + `","dsn":"https://user:` + p["P2 password in a URL's user info"] + `@db.example.com/x"}`)},
		{"GET", "https://" + craftedHost + "/keys/" + url.PathEscape(p["K11 key in a URL path"]) + "/x", http.Header{}, nil},
		{"GET", "https://" + craftedHost + "/pem", http.Header{}, nil},
		{"GET", "https://" + craftedHost + "/note", http.Header{}, nil},
	}
}

// sendCrafted sends each crafted request with client and returns the answers' statuses.
func sendCrafted(t *testing.T, client *http.Client, reqs []craftedRequest) []string {
	t.Helper()
	var out []string
	for _, cr := range reqs {
		req, err := http.NewRequestWithContext(t.Context(), cr.method, cr.url, bytes.NewReader(cr.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = cr.header.Clone()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", cr.method, cr.url, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 || resp.Header.Get("X-Azvcr-Miss") != "" {
			t.Errorf("%s %s: %s %s %s", cr.method, cr.url[:min(len(cr.url), 60)], resp.Status, resp.Header.Get("X-Azvcr-Miss"), body)
		}
		out = append(out, resp.Status)
	}
	return out
}
