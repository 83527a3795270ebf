package redact_test

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/secrets"
)

// testKey is a Cosmos-shaped key holding '+' and '/', fresh per run.
func testKey(t *testing.T) string {
	t.Helper()
	for {
		b := make([]byte, 64)
		rand.Read(b)
		if k := base64.StdEncoding.EncodeToString(b); strings.Contains(k, "+") && strings.Contains(k, "/") {
			return k
		}
	}
}

// TestRedactionByStructure: each place the issue found a secret reaching the cassette, and
// more. The value is replaced whole, the rest keeps its bytes.
func TestRedactionByStructure(t *testing.T) {
	key, key2 := testKey(t), testKey(t)
	sig := base64.StdEncoding.EncodeToString([]byte("thirty-two bytes of a signature!"))
	jwt := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0aWQiOiJ0IiwiYXVkIjoiaHR0cHM6Ly9tYW5hZ2VtZW50LmF6dXJlLmNvbSJ9." + strings.Repeat("c2lnbmF0dXJl", 8)
	secret := "abc8Q~" + "Xy7-Pq2.Rs9_Tu4~Vw6.Za1-Bc3_De5~Fg"
	plus := func(s string) string { return strings.NewReplacer("+", `\u002B`, "/", `\/`).Replace(s) }
	tests := []struct {
		name      string
		req       cassette.Request
		resp      cassette.Response
		wantReq   string // the request body, URL or header after redaction (see where)
		wantResp  string
		whereReq  string
		whereResp string
	}{
		{name: ".NET \\u002B escapes in listConnectionStrings",
			resp:      cassette.Response{Body: `{"connectionStrings":[{"connectionString":"AccountEndpoint=https:\/\/a.documents.azure.com:443\/;AccountKey=` + plus(key) + `;","description":"Primary"}]}`},
			wantResp:  `{"connectionStrings":[{"connectionString":"AccountEndpoint=https:\/\/a.documents.azure.com:443\/;AccountKey=REDACTED;","description":"Primary"}]}`,
			whereResp: "body"},
		{name: "AccountKey\\u003d",
			resp:     cassette.Response{Body: `{"cs":"AccountKey\u003d` + plus(key) + `;"}`},
			wantResp: `{"cs":"AccountKey\u003dREDACTED;"}`, whereResp: "body"},
		{name: "SAS sig in a request URL",
			req:     cassette.Request{URL: "https://a.blob.core.windows.net/c/b?sv=2022-11-02&sig=" + url.QueryEscape(sig) + "&sp=r"},
			wantReq: "https://a.blob.core.windows.net/c/b?sv=2022-11-02&sig=REDACTED&sp=r", whereReq: "url"},
		{name: "SAS URL inside a response body",
			resp:     cassette.Response{Body: `{"url":"https:\/\/a.blob.core.windows.net\/c\/b?sv=1&sig=` + url.QueryEscape(sig) + `&se=1"}`},
			wantResp: `{"url":"https:\/\/a.blob.core.windows.net\/c\/b?sv=1&sig=REDACTED&se=1"}`, whereResp: "body"},
		{name: "client_secret in a query string",
			req:     cassette.Request{URL: "https://h/token?client_id=x&client_secret=" + url.QueryEscape(secret)},
			wantReq: "https://h/token?client_id=x&client_secret=REDACTED", whereReq: "url"},
		{name: "client_secret in a JSON body",
			req:     cassette.Request{URL: "https://h/", Body: `{"client_id":"x","client_secret":"short-but-named"}`},
			wantReq: `{"client_id":"x","client_secret":"REDACTED"}`, whereReq: "body"},
		{name: "client_secret in a form without Content-Type",
			req:     cassette.Request{URL: "https://h/", Body: "grant_type=client_credentials&client_secret=s3cr3t&scope=x"},
			wantReq: "grant_type=client_credentials&client_secret=REDACTED&scope=x", whereReq: "body"},
		{name: "a key in a header no rule names",
			req:     cassette.Request{URL: "https://h/", Headers: http.Header{"X-Ms-Cosmos-Whatever": {key}}},
			wantReq: "REDACTED", whereReq: "header X-Ms-Cosmos-Whatever"},
		{name: "X-Api-Key by name",
			req:     cassette.Request{URL: "https://h/", Headers: http.Header{"X-Api-Key": {"abc"}}},
			wantReq: "REDACTED", whereReq: "header X-Api-Key"},
		{name: "a JWT in a custom response header",
			resp:     cassette.Response{Headers: http.Header{"X-Debug": {"token " + jwt}}},
			wantResp: "token REDACTED", whereResp: "header X-Debug"},
		{name: "auxiliary tokens keep their kind",
			req:     cassette.Request{URL: "https://h/", Headers: http.Header{"X-Ms-Authorization-Auxiliary": {"Bearer " + jwt + ", Bearer " + jwt}}},
			wantReq: "Bearer REDACTED, Bearer REDACTED", whereReq: "header X-Ms-Authorization-Auxiliary"},
		{name: "a Cosmos key in a JSON field with any name, with surrogate pairs about",
			resp:     cassette.Response{Body: `{"id":"d1","whatever":"\ud83d\ude00` + plus(key) + `\ud83d\ude00","n":1}`},
			wantResp: `{"id":"d1","whatever":"\ud83d\ude00REDACTED\ud83d\ude00","n":1}`, whereResp: "body"},
		{name: "an Entra secret by its shape in text",
			resp:     cassette.Response{Body: "Your secret is " + secret + ". Keep it."},
			wantResp: "Your secret is REDACTED. Keep it.", whereResp: "body"},
		{name: "a password in a URL's user info inside JSON",
			req:     cassette.Request{URL: "https://h/", Body: `{"dsn":"https://user:hunter2@db.example.com/x"}`},
			wantReq: `{"dsn":"https://user:REDACTED@db.example.com/x"}`, whereReq: "body"},
		{name: "a URL-encoded redirect holding a code",
			req:     cassette.Request{URL: "https://h/authorize?redirect_uri=" + url.QueryEscape("https://app/cb?code=abc123&state=s")},
			wantReq: "https://h/authorize?redirect_uri=" + strings.Replace(url.QueryEscape("https://app/cb?code=abc123&state=s"), "abc123", "REDACTED", 1), whereReq: "url"},
		{name: "a key in a path segment",
			req:     cassette.Request{URL: "https://h/keys/" + url.PathEscape(key) + "/x"},
			wantReq: "https://h/keys/REDACTED/x", whereReq: "url"},
		{name: "a base64 body hiding a connection string is replaced whole",
			req:     cassette.Request{URL: "https://h/", Body: base64.StdEncoding.EncodeToString([]byte("AccountKey=" + key2 + ";"))},
			wantReq: "REDACTED", whereReq: "body"},
		{name: "a binary body",
			resp:     cassette.Response{Body: "\xff\xfe\x00AccountKey=" + key2 + ";\x81"},
			wantResp: "\xff\xfe\x00AccountKey=REDACTED;\x81", whereResp: "body"},
		{name: "ARM errors keep their code, keysMetadata its dates",
			resp:     cassette.Response{Body: `{"error":{"code":"NotFound","message":"x"},"keysMetadata":{"primaryMasterKey":{"generationTime":"2024-01-01T00:00:00Z"}}}`},
			wantResp: `{"error":{"code":"NotFound","message":"x"},"keysMetadata":{"primaryMasterKey":{"generationTime":"2024-01-01T00:00:00Z"}}}`, whereResp: "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := &cassette.Interaction{Request: tt.req, Response: tt.resp}
			if it.Request.URL == "" {
				it.Request.URL = "https://h/"
			}
			redact.DefaultRules().Interaction(it)
			if tt.whereReq != "" {
				if got := where(it.Request.URL, it.Request.Body, it.Request.Headers, tt.whereReq); got != tt.wantReq {
					t.Errorf("request %s:\n got  %q\n want %q", tt.whereReq, got, tt.wantReq)
				}
			}
			if tt.whereResp != "" {
				if got := where("", it.Response.Body, it.Response.Headers, tt.whereResp); got != tt.wantResp {
					t.Errorf("response %s:\n got  %q\n want %q", tt.whereResp, got, tt.wantResp)
				}
			}
		})
	}
}

func where(u, body string, h http.Header, w string) string {
	switch {
	case w == "url":
		return u
	case w == "body":
		return body
	default:
		return h.Get(strings.TrimPrefix(w, "header "))
	}
}

// TestGzipBodies: a gzip body is read inside; it stays byte for byte when nothing in it is
// secret, and is written again, redacted, when something is.
func TestGzipBodies(t *testing.T) {
	zip := func(s string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.String()
	}
	clean := zip(`{"id":"a","n":1}`)
	req := cassette.Request{URL: "https://h/", Body: clean}
	redact.DefaultRules().Request(&req)
	if req.Body != clean {
		t.Error("a clean gzip body changed")
	}
	req = cassette.Request{URL: "https://h/", Body: zip(`{"password":"hunter22","id":"a"}`)}
	redact.DefaultRules().Request(&req)
	zr, err := gzip.NewReader(strings.NewReader(req.Body))
	if err != nil {
		t.Fatal(err)
	}
	inner, _ := io.ReadAll(zr)
	if string(inner) != `{"password":"REDACTED","id":"a"}` {
		t.Errorf("inside the gzip body: %s", inner)
	}
}

// TestShippedCassetteRoundTrips: the default rules change nothing in a cassette of real Cosmos
// traffic (documents, queries, continuations, session tokens, _rid, _self, _etag, _ts) that
// holds no secret, and lint agrees there is none.
func TestShippedCassetteRoundTrips(t *testing.T) {
	path := filepath.Join("..", "fixtures", "cassettes", "cosmos-e2e.yaml")
	before := cassettetest.MustLoad(t, path)
	after := cassettetest.MustLoad(t, path)
	r := redact.DefaultRules()
	for _, it := range after.Interactions {
		r.Interaction(it)
	}
	for i := range before.Interactions {
		if !reflect.DeepEqual(before.Interactions[i], after.Interactions[i]) {
			t.Errorf("interaction %d changed:\n%+v\n%+v", i, before.Interactions[i], after.Interactions[i])
		}
	}
	if fs, _ := secrets.LintFile(path); len(fs) != 0 {
		t.Errorf("lint: %v", fs)
	}
	t.Logf("%d interactions unchanged", len(before.Interactions))
}

// TestRecordedRequests: another tool's recording, indexed through the rules, holds requests as
// live ones look after redaction; the originals and the responses are left alone.
func TestRecordedRequests(t *testing.T) {
	orig := &cassette.Interaction{
		Request:  cassette.Request{URL: "https://h/x?sig=abc", Headers: http.Header{"X-Api-Key": {"k"}}, Body: `{"wrappedDataEncryptionKey":"VTNkaA=="}`},
		Response: cassette.Response{Body: `{"password":"kept in the response as recorded"}`},
	}
	got := redact.DefaultRules().RecordedRequests([]*cassette.Interaction{orig})[0]
	live := cassette.Request{URL: "https://h/x?sig=live", Headers: http.Header{"X-Api-Key": {"other"}}, Body: `{"wrappedDataEncryptionKey":"bGl2ZQ=="}`}
	redact.DefaultRules().Request(&live)
	if got.Request.URL != live.URL || got.Request.Body != live.Body || got.Request.Headers.Get("X-Api-Key") != live.Headers.Get("X-Api-Key") {
		t.Errorf("recorded %+v, live %+v", got.Request, live)
	}
	if orig.Request.URL != "https://h/x?sig=abc" || orig.Request.Headers.Get("X-Api-Key") != "k" || got.Response.Body != orig.Response.Body {
		t.Errorf("the original changed or the response was redacted: %+v / %+v", orig, got.Response)
	}
}
