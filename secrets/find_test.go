package secrets_test

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/secrets"
)

// TestFindCoversEncodedValuesWhole: a match found with escapes or URL encoding undone covers the
// whole encoded secret in the text as given, escape sequences included, and nothing else.
func TestFindCoversEncodedValuesWhole(t *testing.T) {
	s := newLintSecrets()
	esc := func(v string) string { return strings.NewReplacer("+", `\u002B`, "/", `\/`, "=", `\u003d`).Replace(v) }
	tests := []struct {
		name, before, secret, after, rule string
	}{
		{"plain", `{"k":"`, s.Key, `"}`, "cosmos-key"},
		{"JSON escapes", `{"k":"`, esc(s.Key), `"}`, "cosmos-key"},
		{"surrogate pairs about", `{"k":"\ud83d\ude00`, esc(s.Key), `\ud83d\ude00"}`, "cosmos-key"},
		{"URL-encoded", "?x=", url.QueryEscape(s.Key2), "&y=1", "cosmos-key"},
		{"connection string, escaped =", `AccountKey\u003d`, esc(s.Key2), ";", "connection-string-key"},
		{"SAS sig", "?sv=1&sig=", url.QueryEscape(s.SASSig), "&se=1", "sas-signature"},
		{"inside base64: the whole run", "x: ", base64.StdEncoding.EncodeToString([]byte("AccountKey=" + s.Key + ";")), " y", "connection-string-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := tt.before + tt.secret + tt.after
			ms := secrets.Find(text)
			if len(ms) != 1 {
				t.Fatalf("Find: %+v", ms)
			}
			if got := text[ms[0].Start:ms[0].End]; got != tt.secret || ms[0].Rule != tt.rule {
				t.Errorf("match %q (%s), want %q (%s)", got, ms[0].Rule, tt.secret, tt.rule)
			}
		})
	}
}

func TestFindValueByName(t *testing.T) {
	s := newLintSecrets()
	tests := []struct {
		name, value string
		want        bool
	}{
		{"X-Api-Key", s.APIKey, true},
		{"clientSecret", s.Opaque, true},
		{"adminPassword1", s.Opaque, true},
		{"client_assertion_type", s.Opaque, false},
		{"id_token_signing_alg_values_supported", s.Opaque, false},
		{"secretName", s.Opaque, false},
		{"partitionKey", s.Opaque, false},
		{"X-Api-Key", "short", false},
		{"X-Api-Key", "REDACTED", false},
	}
	for _, tt := range tests {
		ms := secrets.FindValue(tt.name, tt.value)
		if got := len(ms) == 1 && ms[0].Start == 0 && ms[0].End == len(tt.value); got != tt.want {
			t.Errorf("FindValue(%q, %.8s…) = %+v, want whole value: %v", tt.name, tt.value, ms, tt.want)
		}
	}
}
