package testproxy

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/testproxyjson"
)

// TestRecordStopRefusesSecrets: a recording whose sanitizers leave a secret is not saved: the
// answer is a 400 naming the file and the rule, an older file of that name stays as it was, and
// neither a temporary file nor a folder made for the recording is left behind. A clean
// recording is saved.
func TestRecordStopRefusesSecrets(t *testing.T) {
	raw := make([]byte, 64)
	rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw) // a Cosmos DB account key's shape
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Path == "/leak" {
			io.WriteString(w, "primary "+key+"\n")
			return
		}
		io.WriteString(w, "nothing to see\n")
	}))
	defer up.Close()
	cases := []struct {
		name    string
		file    string
		old     string // the file's content before; "" for none
		path    string
		refused bool
	}{
		{"refused, no file before, folders not made", "new/deeper/rec.json", "", "/leak", true},
		{"refused, the old file kept", "kept.json", `{"Entries": [], "Variables": {}}` + "\n", "/leak", true},
		{"clean, saved over the old file", "clean.json", "old\n", "/fine", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newTPServer(t)
			path := filepath.Join(p.storage, filepath.FromSlash(tc.file))
			if tc.old != "" {
				if err := os.WriteFile(path, []byte(tc.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var touched []string
			writing = func(file string) { touched = append(touched, file) }
			defer func() { writing = func(string) {} }()
			id := p.startRecord(tc.file)
			for range 3 {
				if r := p.send(id, "record", up.URL, "GET", tc.path, ""); r.Code != http.StatusOK {
					t.Fatalf("recorded request: %d %s", r.Code, r.Body)
				}
			}
			r := p.admin("/Record/Stop", "", "X-Recording-Id", id)
			got, readErr := os.ReadFile(path)
			if !tc.refused {
				if r.Code != http.StatusOK || readErr != nil || !strings.Contains(string(got), "nothing to see") || len(touched) != 1 {
					t.Fatalf("clean recording: %d %s; file %q (%v)", r.Code, r.Body, got, readErr)
				}
				return
			}
			if len(touched) > 0 {
				t.Errorf("a refused save touched the disk: %q (a secret must not reach a file, even a temporary one)", touched)
			}
			if r.Code != http.StatusBadRequest || !strings.Contains(r.Body, "did not save "+path) || !strings.Contains(r.Body, "3 secret(s)") ||
				!strings.Contains(r.Body, "cosmos-key") {
				t.Errorf("answer %d %s", r.Code, r.Body)
			}
			if strings.Contains(r.Body, key) {
				t.Errorf("the answer holds the secret itself")
			}
			switch {
			case tc.old == "" && readErr == nil:
				t.Errorf("a refused recording was written: %s", got)
			case tc.old != "" && string(got) != tc.old:
				t.Errorf("the old file was changed to %q", got)
			}
			ents, _ := os.ReadDir(p.storage)
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			if want := map[bool]int{true: 0, false: 1}[tc.old == ""]; len(ents) != want {
				t.Errorf("storage holds %v, want %d entries", names, want)
			}
		})
	}
}

// TestSaveStreamMatchesWhole: a streamed save writes what sanitizing and marshaling the whole
// recording writes, over many blocks (the spool reusing the exchanges' blocks as they are given
// back, an exchange larger than a block among them).
func TestSaveStreamMatchesWhole(t *testing.T) {
	s := New(WithStorage(t.TempDir()))
	sans := s.reg.resolve(s.reg.serverList())
	its := make([]*cassette.Interaction, 3000)
	for i := range its {
		its[i] = stopExchange(i)
	}
	its[1500].Response.Headers.Set("Content-Type", "text/plain")
	its[1500].Response.Body = strings.Repeat("a large body\n", 2*blockSize/13)
	var rec entries
	defer rec.free()
	for _, it := range its {
		rec.add(it)
	}
	want, err := testproxyjson.Marshal(&cassette.Cassette{Interactions: sanitizeRecording(sans, its)}, map[string]string{"seed": "1"})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "stream.json")
	if n, herr := s.saveStream(file, compilePlan(sans), &rec, map[string]string{"seed": "1"}); herr != nil || n != len(its) {
		t.Fatalf("saveStream: %d, %v", n, herr)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("streamed save (%d bytes) differs from the whole one (%d bytes)", len(got), len(want))
	}
}
