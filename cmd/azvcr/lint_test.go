package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
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
		{"no files", []string{"lint"}, exitUsage, nil, "azvcr lint: no files given (usage: azvcr lint FILE...)\n"},
		{"bad flag", []string{"lint", "--strict", clean}, exitUsage, nil, "flag provided but not defined: -strict"},
		{"help", []string{"lint", "-h"}, exitOK, nil, "azvcr lint        FILE..."},
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

func TestUsageDocumentsLint(t *testing.T) {
	for _, want := range []string{"azvcr lint        FILE...", "file:line: rule: excerpt", "lint found"} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage does not mention %q", want)
		}
	}
}
