package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLintCommand(t *testing.T) {
	dir := t.TempDir()
	raw := make([]byte, 64)
	rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw)
	rand.Read(raw[:32])
	token := base64.RawURLEncoding.EncodeToString(raw[:32])

	leaky := filepath.Join(dir, "leaky.yaml")
	os.WriteFile(leaky, []byte("version: 2\ninteractions:\n- id: 0\n  request:\n    body: 'AccountEndpoint=https://acct.documents.azure.com:443/;AccountKey="+key+";'\n    headers:\n      Authorization:\n        - Bearer "+token+"\n"), 0o644)
	leaky2 := filepath.Join(dir, "leaky2.yaml")
	os.WriteFile(leaky2, []byte("not even YAML: {\n"+key+"\n"), 0o644)
	clean := filepath.Join("..", "..", "fixtures", "cassettes", "cosmos-e2e.yaml")
	missing := filepath.Join(dir, "missing.yaml")

	tests := []struct {
		name       string
		args       []string
		code       int
		wantOut    []string // exact stdout lines
		wantStderr string
	}{
		{"clean", []string{"lint", clean}, exitOK, nil, "azvcr lint: 1 file clean\n"},
		{"two clean", []string{"lint", clean, clean}, exitOK, nil, "azvcr lint: 2 files clean\n"},
		{"findings", []string{"lint", clean, leaky, leaky2}, exitError, []string{
			leaky + ":5: connection-string-key: AccountKey=" + key[:4] + "…(88 chars)",
			leaky + ":8: bearer-token: Bearer " + token[:4] + "…(43 chars)",
			leaky2 + ":2: cosmos-key: " + key[:4] + "…(88 chars)",
		}, "azvcr lint: 3 findings in 2 files\n"},
		{"unreadable file", []string{"lint", missing, clean}, exitError, nil,
			"azvcr lint: open " + missing + ": no such file or directory\nazvcr lint: 1 file clean; 1 file could not be read\n"},
		{"unreadable and findings", []string{"lint", leaky2, missing}, exitError, []string{leaky2 + ":2: cosmos-key: " + key[:4] + "…(88 chars)"},
			"azvcr lint: open " + missing + ": no such file or directory\nazvcr lint: 1 finding in 1 file; 1 file could not be read\n"},
		{"a file named like a flag", []string{"lint", "--", leaky2}, exitError, []string{leaky2 + ":2: cosmos-key: " + key[:4] + "…(88 chars)"}, "1 finding in 1 file"},
		{"no files", []string{"lint"}, exitUsage, nil, "azvcr lint: no files given (usage: azvcr lint [--format text|json] FILE...)\n"},
		{"bad flag", []string{"lint", "--strict", clean}, exitUsage, nil, "flag provided but not defined: -strict"},
		{"unknown format", []string{"lint", "--format", "xml", clean}, exitUsage, nil, "azvcr lint: unknown --format \"xml\" (text or json)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errb.String())
			}
			var got []string
			if out.Len() > 0 {
				got = strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tt.wantOut, "\n") {
				t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), strings.Join(tt.wantOut, "\n"))
			}
			if strings.HasSuffix(tt.wantStderr, "\n") && errb.String() != tt.wantStderr ||
				!strings.Contains(errb.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want %q", errb.String(), tt.wantStderr)
			}
			for _, secret := range []string{key, token, key[4:20], token[4:20]} {
				if strings.Contains(out.String()+errb.String(), secret) {
					t.Fatalf("output shows the secret %q:\n%s%s", secret, out.String(), errb.String())
				}
			}
		})
	}
}

// TestLintJSON: --format json prints one document with every finding and unreadable file, masked
// like the text, and keeps the exit codes.
func TestLintJSON(t *testing.T) {
	dir := t.TempDir()
	raw := make([]byte, 64)
	rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw)
	leaky := filepath.Join(dir, "leaky.yaml")
	os.WriteFile(leaky, []byte("a: 1\nbody: '{\"cs\":\"AccountKey=REDACTED\\u002B"+key[10:]+";\"}'\nk: "+key+"\n"), 0o644)
	clean := filepath.Join("..", "..", "fixtures", "cassettes", "cosmos-e2e.yaml")
	missing := filepath.Join(dir, "missing.yaml")
	tests := []struct {
		name  string
		files []string
		code  int
		want  lintReport
	}{
		{"clean", []string{clean}, exitOK, lintReport{Files: 1, Clean: true, Findings: []lintFinding{}, Unreadable: []lintError{}}},
		{"findings and an unreadable file", []string{leaky, missing, clean}, exitError, lintReport{Files: 3,
			Findings: []lintFinding{
				{File: leaky, Line: 2, Rule: "partial-redaction", Excerpt: "REDACTED+" + key[10:13] + "…(79 chars, escaped)"},
				{File: leaky, Line: 3, Rule: "cosmos-key", Excerpt: key[:4] + "…(88 chars)"},
			},
			Unreadable: []lintError{{File: missing, Error: "open " + missing + ": no such file or directory"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(append([]string{"lint", "--format", "json"}, tt.files...), &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if errb.Len() != 0 {
				t.Errorf("stderr %q, want nothing besides the document", errb.String())
			}
			var got lintReport
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, out.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if strings.Contains(out.String(), key[4:20]) || strings.Contains(out.String(), key[20:40]) {
				t.Fatalf("output shows the secret:\n%s", out.String())
			}
		})
	}
}

func TestUsageDocumentsLint(t *testing.T) {
	for _, want := range []string{"azvcr lint        FILE...", "file:line: rule: excerpt", "lint found"} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage does not mention %q", want)
		}
	}
}
