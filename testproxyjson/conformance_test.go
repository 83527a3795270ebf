//go:build conformance

package testproxyjson_test

// Microsoft's own recordings, read and written back: run by `make conformance` (go test -tags
// conformance), which finds them in $AZVCR_CONFORMANCE_DIR. They are not in this repository, so
// `make test` does not run these.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	vcr4 "gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
)

// conformanceRecordings lists Microsoft's real armcosmos recordings. The directory is
// $AZVCR_CONFORMANCE_DIR (the directory holding recordings/, or the recordings themselves), else
// the shared checkout next to the repository. Missing recordings fail the test: they are the
// evidence that real files convert.
func conformanceRecordings(t *testing.T) []string {
	t.Helper()
	dir := os.Getenv("AZVCR_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "conformance", "armcosmos")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "recordings", "*.json"))
	if len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join(dir, "*.json"))
	}
	if len(files) == 0 {
		t.Fatalf("no test-proxy recordings in %s/recordings: the armcosmos conformance data is required "+
			"(set AZVCR_CONFORMANCE_DIR to the directory holding recordings/*.json)", dir)
	}
	return files
}

// canonicalStrings rewrites every JSON string literal in data with one spelling of escapes and
// leaves every other byte alone, so two files can be compared byte for byte up to how their
// writers chose to escape (System.Text.Json's default encoder writes & as \u0026, its relaxed
// encoder as &).
func canonicalStrings(t *testing.T, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			out.WriteByte(data[i])
			continue
		}
		j := i + 1
		for data[j] != '"' {
			if data[j] == '\\' {
				j++
			}
			j++
		}
		var s string
		if err := json.Unmarshal(data[i:j+1], &s); err != nil {
			t.Fatalf("string at %d: %v", i, err)
		}
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		out.Truncate(out.Len() - 1) // Encode's newline
		i = j
	}
	return out.Bytes()
}

func TestTestProxyConformanceRecordings(t *testing.T) {
	for _, file := range conformanceRecordings(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, vars := mustParseTP(t, file, data)

			// Against encoding/json: every entry, header and body is there.
			entries, gvars := genericEntries(t, data)
			if len(c.Interactions) != len(entries) || len(entries) == 0 {
				t.Fatalf("%d interactions, the file has %d entries", len(c.Interactions), len(entries))
			}
			if len(vars) != len(gvars) || vars["randSeed"] == "" || !reflect.DeepEqual(c.Variables, vars) {
				t.Errorf("variables %v (cassette %v), file has %v", vars, c.Variables, gvars)
			}
			for k, v := range gvars {
				if vars[k] != v.(string) {
					t.Errorf("variable %s = %q, want %q", k, vars[k], v)
				}
			}
			for i, e := range entries {
				it := c.Interactions[i]
				if it.ID != i || it.Request.URL != e["RequestUri"] || it.Request.Method != e["RequestMethod"] ||
					strconv.Itoa(it.Response.Code) != string(e["StatusCode"].(json.Number)) {
					t.Errorf("entry %d: got id %d %s %s %d", i, it.ID, it.Request.Method, it.Request.URL, it.Response.Code)
				}
				sides := map[string]struct {
					h     http.Header
					names []string
				}{"Request": {it.Request.Headers, it.Request.HeaderNames}, "Response": {it.Response.Headers, it.Response.HeaderNames}}
				for side, got := range sides {
					// Headers are keyed canonically; the names as the file spells them are kept beside.
					want, spelled := http.Header{}, map[string]bool{}
					for k, v := range e[side+"Headers"].(map[string]any) {
						ck := http.CanonicalHeaderKey(k)
						spelled[k] = true
						switch v := v.(type) {
						case string:
							want[ck] = []string{v}
						case []any:
							want[ck] = []string{}
							for _, s := range v {
								want[ck] = append(want[ck], s.(string))
							}
						}
					}
					if !reflect.DeepEqual(got.h, want) {
						t.Errorf("entry %d %s headers:\n got %v\nwant %v", i, side, got.h, want)
					}
					names := map[string]bool{}
					for _, n := range got.names {
						names[n] = true
					}
					if !reflect.DeepEqual(names, spelled) {
						t.Errorf("entry %d %s header names %v, the file spells %v", i, side, got.names, spelled)
					}
				}
				for side, body := range map[string]string{"Request": it.Request.Body, "Response": it.Response.Body} {
					switch v := e[side+"Body"].(type) {
					case nil:
						if body != "" {
							t.Errorf("entry %d %s body %q, want none", i, side, body)
						}
					case map[string]any:
						var got any
						dec := json.NewDecoder(strings.NewReader(body))
						dec.UseNumber()
						if err := dec.Decode(&got); err != nil || !reflect.DeepEqual(got, v) {
							t.Errorf("entry %d %s body %q does not decode to the file's value (%v)", i, side, body, err)
						}
						var compact bytes.Buffer
						json.Compact(&compact, []byte(body))
						if compact.String() != body {
							t.Errorf("entry %d %s body is not compact: %q", i, side, body)
						}
					default:
						t.Errorf("entry %d %s body: unexpected form %T in this recording", i, side, v)
					}
				}
			}

			// JSON -> JSON: the proxy's own layout, byte for byte up to escape spelling.
			out := mustMarshalTP(t, c, vars)
			if got, want := canonicalStrings(t, out), canonicalStrings(t, data); !bytes.Equal(got, want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Errorf("MarshalTestProxy differs from the recording at byte %d:\n got %q\nwant %q",
					i, got[max(0, i-60):min(len(got), i+60)], want[max(0, i-60):min(len(want), i+60)])
			}
			c2, vars2 := mustParseTP(t, "rewritten.json", out)
			cassettetest.SameInteractions(t, c2.Interactions, c.Interactions)
			if !reflect.DeepEqual(vars2, vars) {
				t.Errorf("variables after JSON round trip %v, want %v", vars2, vars)
			}

			// JSON -> YAML -> JSON: the cassette keeps everything, variables included.
			yamlPath := cassettetest.TempPath(t, "converted.yaml")
			if err := cassette.Save(yamlPath, c); err != nil {
				t.Fatal(err)
			}
			c3 := cassettetest.MustLoad(t, yamlPath)
			cassettetest.SameInteractions(t, c3.Interactions, c.Interactions)
			if !reflect.DeepEqual(c3.Variables, vars) {
				t.Errorf("variables after YAML %v, want %v", c3.Variables, vars)
			}
			out3 := mustMarshalTP(t, c3, nil)
			if !bytes.Equal(out3, out) {
				t.Errorf("JSON written from the YAML cassette differs from JSON written directly")
			}
			c4, vars4 := mustParseTP(t, "via-yaml.json", out3)
			cassettetest.SameInteractions(t, c4.Interactions, c.Interactions)
			if !reflect.DeepEqual(vars4, vars) {
				t.Errorf("variables after JSON -> YAML -> JSON %v, want %v", vars4, vars)
			}

			// go-vcr reads the converted cassette, ignoring the variables key.
			v4, err := vcr4.Load(strings.TrimSuffix(yamlPath, ".yaml"))
			if err != nil || len(v4.Interactions) != len(c.Interactions) {
				t.Errorf("go-vcr v4 Load: %v, %d interactions", err, len(v4.Interactions))
			}
		})
	}
}
