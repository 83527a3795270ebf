package testproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
	"github.com/azvcr/azvcr/internal/httpcheck"
	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/testproxyjson"
)

// ---- 7: in-memory recordings ----

func TestTestProxyInMemoryRecording(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))
	p.keepNamesAndIDs()
	id := p.startRecord("") // no body: in memory
	httpcheck.Expect(t, "record", p.send(id, "record", up.URL, "GET", tpListTarget, ""), 200, tpListAnswer)
	httpcheck.Expect(t, "record poll", p.send(id, "record", up.URL, "GET", tpPollTarget, ""), 200, `{"status":"InProgress","poll":1}`)
	p.mustAdmin("/Record/Stop", `{"randSeed":"5"}`, "X-Recording-Id", id)
	if entries, _ := os.ReadDir(p.storage); len(entries) != 0 {
		t.Errorf("an in-memory recording wrote %d files to the storage root", len(entries))
	}

	hits := len(up.requests())
	r := p.mustAdmin("/Playback/Start", "", "X-Recording-Id", id)
	pid, vars := p.playbackStarted(r)
	if pid == id {
		t.Errorf("playback session reuses the recording id")
	}
	if !reflect.DeepEqual(vars, map[string]any{"randSeed": "5"}) {
		t.Errorf("variables %v, want randSeed 5", vars)
	}
	httpcheck.Expect(t, "playback", p.send(pid, "playback", up.URL, "GET", tpListTarget, ""), 200, tpListAnswer)
	httpcheck.Expect(t, "playback poll", p.send(pid, "playback", up.URL, "GET", tpPollTarget, ""), 200, `{"status":"InProgress","poll":1}`)
	expectMismatch(t, "second poll", p.send(pid, "playback", up.URL, "GET", tpPollTarget, ""), "/operations/op1")
	if n := len(up.requests()); n != hits {
		t.Errorf("playback went upstream %d times", n-hits)
	}
	p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", pid)

	expectKnownError(t, "playback of an unknown in-memory id", p.admin("/Playback/Start", "", "X-Recording-Id", "no-such-id"), http.StatusBadRequest)
	expectKnownError(t, "playback with neither file nor id", p.admin("/Playback/Start", ""), http.StatusBadRequest)
}

// ---- 8: what /Playback/Start loads ----

func TestTestProxyPlaybackStartFiles(t *testing.T) {
	p := newTPServer(t)
	t.Run("missing file", func(t *testing.T) {
		r := p.admin("/Playback/Start", startBodyJSON("nope/Missing.json"))
		if r.Code != http.StatusNotFound {
			t.Fatalf("status %d %s, want 404", r.Code, r.Body)
		}
		want := filepath.Join(p.storage, "nope", "Missing.json")
		var body struct{ Message string }
		if json.Unmarshal([]byte(r.Body), &body); !strings.Contains(body.Message, want) {
			t.Errorf("message %q does not name %s", body.Message, want)
		}
		if r.Header.Get("X-Recording-Id") != "" {
			t.Errorf("a failed start returned an id")
		}
	})
	t.Run("YAML cassette", func(t *testing.T) {
		path := filepath.Join(p.storage, "yaml", "rec.yaml")
		os.MkdirAll(filepath.Dir(path), 0o755)
		it := tpInteraction("GET", tpARM+"/from/yaml?"+tpAPI, "", 200, `{"format":"yaml"}`)
		if err := cassette.Save(path, &cassette.Cassette{Version: cassette.Version, Variables: map[string]string{"k": "v"}, Interactions: []*cassette.Interaction{it}}); err != nil {
			t.Fatal(err)
		}
		id, vars := p.startPlayback("yaml/rec.yaml")
		if !reflect.DeepEqual(vars, map[string]any{"k": "v"}) {
			t.Errorf("variables %v, want k=v", vars)
		}
		httpcheck.Expect(t, "YAML playback", p.send(id, "playback", tpARM, "GET", "/from/yaml?"+tpAPI, ""), 200, `{"format":"yaml"}`)
		p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)
	})
	t.Run("absolute path in the storage location, no variables", func(t *testing.T) {
		abs := filepath.Join(p.storage, "abs", "Abs.json")
		os.MkdirAll(filepath.Dir(abs), 0o755)
		if err := testproxyjson.Save(abs, &cassette.Cassette{Interactions: []*cassette.Interaction{tpInteraction("GET", tpARM+"/abs", "", 204, "")}}, nil); err != nil {
			t.Fatal(err)
		}
		r := p.mustAdmin("/Playback/Start", startBodyJSON(abs))
		id, vars := p.playbackStarted(r)
		if len(vars) != 0 || strings.TrimSpace(r.Body) != "{}" {
			t.Errorf("body %q, want {}", r.Body)
		}
		httpcheck.Expect(t, "absolute-path playback", p.send(id, "playback", tpARM, "GET", "/abs", ""), 204, "")
	})
	t.Run("not a recording", func(t *testing.T) {
		os.WriteFile(filepath.Join(p.storage, "Bad.json"), []byte(`{"Entries": [{"RequestUri": 5}]}`), 0o644)
		r := p.admin("/Playback/Start", startBodyJSON("Bad.json"))
		if msg := expectKnownError(t, "malformed file", r, http.StatusBadRequest); !strings.Contains(msg, "Bad.json") {
			t.Errorf("message %q does not name the file", msg)
		}
	})
}

// Two record sessions at once, from goroutines: each file holds its own session's exchanges only.
func TestTestProxyConcurrentRecordSessions(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))
	p.keepNamesAndIDs()
	const n = 10
	sessions := []struct{ file, method, target, body, answer string }{
		{"conc/Create.json", "POST", tpCreateTarget, tpCreateBody, tpCreateAnswer},
		{"conc/List.json", "GET", tpListTarget, "", tpListAnswer},
	}
	ids := []string{p.startRecord(sessions[0].file), p.startRecord(sessions[1].file)}
	if ids[0] == ids[1] {
		t.Fatalf("two record sessions share id %s", ids[0])
	}
	var wg sync.WaitGroup
	errs := make(chan string, 2*n)
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				var body io.Reader
				if s.body != "" {
					body = strings.NewReader(s.body)
				}
				req, _ := http.NewRequest(s.method, p.base+s.target, body)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Recording-Id", ids[i])
				req.Header.Set("X-Recording-Mode", "record")
				req.Header.Set("X-Recording-Upstream-Base-Uri", up.URL)
				resp, err := p.c.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != s.answer {
					errs <- fmt.Sprintf("%s #%d: %d %s", s.file, j, resp.StatusCode, got)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for i, s := range sessions {
		p.mustAdmin("/Record/Stop", "", "X-Recording-Id", ids[i])
		c, _, err := testproxyjson.Load(filepath.Join(p.storage, filepath.FromSlash(s.file)))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Interactions) != n {
			t.Errorf("%s: %d entries, want %d", s.file, len(c.Interactions), n)
		}
		for j, it := range c.Interactions {
			if it.ID != j || it.Request.Method != s.method || it.Response.Body != s.answer {
				t.Errorf("%s entry %d: id %d %s %s → %q", s.file, j, it.ID, it.Request.Method, it.Request.URL, it.Response.Body)
			}
		}
	}
}

// A recording file named .yaml is written as an azvcr cassette, and plays back.
func TestTestProxyRecordToYAML(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))
	id := p.startRecord("y/Rec.yaml")
	httpcheck.Expect(t, "poll 1", p.send(id, "record", up.URL, "GET", tpPollTarget, "", "Authorization", tpRealAuth), 200, `{"status":"InProgress","poll":1}`)
	httpcheck.Expect(t, "poll 2", p.send(id, "record", up.URL, "GET", tpPollTarget, "", "Authorization", tpRealAuth), 200, `{"status":"Succeeded","poll":2}`)
	p.mustAdmin("/Record/Stop", `{"randSeed":"9"}`, "X-Recording-Id", id)

	c := cassettetest.MustLoad(t, filepath.Join(p.storage, "y", "Rec.yaml"))
	if len(c.Interactions) != 2 || !maps.Equal(c.Variables, map[string]string{"randSeed": "9"}) {
		t.Fatalf("cassette: %d interactions, variables %v", len(c.Interactions), c.Variables)
	}
	for i, it := range c.Interactions {
		if it.ID != i || it.Request.Headers.Get("Authorization") != redact.SanitizedValue { // AZSDK0000
			t.Errorf("interaction %d: id %d, Authorization %q", i, it.ID, it.Request.Headers.Get("Authorization"))
		}
	}
	pid, vars := p.startPlayback("y/Rec.yaml")
	if !reflect.DeepEqual(vars, map[string]any{"randSeed": "9"}) {
		t.Errorf("variables %v", vars)
	}
	httpcheck.Expect(t, "replayed poll 1", p.send(pid, "playback", up.URL, "GET", tpPollTarget, ""), 200, `{"status":"InProgress","poll":1}`)
	httpcheck.Expect(t, "replayed poll 2", p.send(pid, "playback", up.URL, "GET", tpPollTarget, ""), 200, `{"status":"Succeeded","poll":2}`)
}

// /Record/Stop with x-recording-skip: request-response discards the session.
func TestTestProxyRecordStopSkip(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))
	id := p.startRecord("skip/Discarded.json")
	httpcheck.Expect(t, "record", p.send(id, "record", up.URL, "GET", tpListTarget, ""), 200, tpListAnswer)
	p.mustAdmin("/Record/Stop", "", "X-Recording-Id", id, "X-Recording-Skip", "request-response")
	if _, err := os.Stat(filepath.Join(p.storage, "skip", "Discarded.json")); !os.IsNotExist(err) {
		t.Errorf("a discarded recording was written (stat: %v)", err)
	}
	expectKnownError(t, "proxied after stop", p.send(id, "record", up.URL, "GET", tpListTarget, ""), http.StatusBadRequest)
}

// The Go harness's SetBodilessMatcher(t, ...) sets the matcher for its session after
// /Playback/Start; other sessions keep the default.
