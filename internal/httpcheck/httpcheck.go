// Package httpcheck holds the small HTTP helpers the faces' tests share: send one request and
// read the whole answer, and compare it with what was expected.
package httpcheck

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// Result is one answer, read whole.
type Result struct {
	Code   int
	Header http.Header
	Body   string
	Resp   *http.Response
}

// Do sends one request; headers are name, value pairs.
func Do(t testing.TB, c *http.Client, method, url, body string, headers ...string) Result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return Result{Code: resp.StatusCode, Header: resp.Header, Body: string(data), Resp: resp}
}

// Expect fails the test unless r has the status and body.
func Expect(t testing.TB, what string, r Result, code int, body string) {
	t.Helper()
	if r.Code != code || r.Body != body {
		t.Errorf("%s: got %d %q, want %d %q", what, r.Code, r.Body, code, body)
	}
}

// DiscardLogger logs nothing.
func DiscardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
