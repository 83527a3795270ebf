package testproxy

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/assets"
	"github.com/azvcr/azvcr/internal/httpcheck"
)

// /Info/Available and /Info/Active answer 200 with test-proxy's pages (the JS dev tooling probes
// /Info/Available to find a running proxy).
func TestTestProxyInfoPages(t *testing.T) {
	p := newTPServer(t)
	r := httpcheck.Do(t, p.c, "GET", p.base+"/Info/Available", "")
	if r.Code != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/Info/Available: %d %s", r.Code, r.Header.Get("Content-Type"))
	}
	for _, want := range []string{"Test-Proxy - Available Extensions", "Available Sanitizers", "BodyKeySanitizer", "CustomDefaultMatcher", "HeaderTransform"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("/Info/Available lacks %q", want)
		}
	}
	p.writeRecording("I.json", nil, tpInteraction("GET", tpARM+"/i", "", 200, `{}`))
	id, _ := p.startPlayback("I.json")
	p.mustAdmin("/Admin/AddSanitizer", `{"key":"x-mine"}`, "X-Abstraction-Identifier", "HeaderRegexSanitizer", "X-Recording-Id", id)
	r = httpcheck.Do(t, p.c, "GET", p.base+"/Info/Active?id="+id, "")
	if r.Code != 200 || !strings.Contains(r.Body, "Test-Proxy - Active Extensions") || !strings.Contains(r.Body, "AZSDK4001") || !strings.Contains(r.Body, "x-mine") || !strings.Contains(r.Body, "StorageRequestIdTransform") {
		t.Errorf("/Info/Active for a session: %d %s", r.Code, r.Body)
	}
	expectKnownError(t, "/Info/Active for an unknown session", httpcheck.Do(t, p.c, "GET", p.base+"/Info/Active?id=nope", ""), http.StatusBadRequest)
}

// A harness names an assets.json that does not exist: test-proxy's 400, whose message the JS
// recorder recognises before it retries without one.
func TestTestProxyMissingAssetsFile(t *testing.T) {
	p := newTPServer(t)
	p.writeRecording("sdk/x/recordings/A.json", nil, tpInteraction("GET", tpARM+"/a", "", 200, `{}`))
	for _, route := range []string{"/Record/Start", "/Playback/Start"} {
		r := p.admin(route, `{"x-recording-file":"sdk/x/recordings/A.json","x-recording-assets-file":"sdk/x/assets.json"}`)
		msg := expectKnownError(t, route, r, http.StatusBadRequest)
		if !strings.Contains(msg, "The provided assets") || !strings.Contains(msg, "does not exist") {
			t.Errorf("%s: message %q", route, msg)
		}
	}
	p.startPlayback("sdk/x/recordings/A.json") // the retry, without the assets.json
}

// x-recording-remove: false leaves the answered recording for the next request; an in-memory
// recording played back with x-purge-inmemory-recording: true is gone afterwards.
func TestTestProxyKeepAndPurge(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))
	p.keepNamesAndIDs()
	id := p.startRecord("")
	httpcheck.Expect(t, "record", p.send(id, "record", up.URL, "GET", tpListTarget, ""), 200, tpListAnswer)
	p.mustAdmin("/Record/Stop", "", "X-Recording-Id", id)
	pid, _ := p.playbackStarted(p.mustAdmin("/Playback/Start", "", "X-Recording-Id", id))
	for i := 0; i < 3; i++ {
		httpcheck.Expect(t, "kept", p.send(pid, "playback", up.URL, "GET", tpListTarget, "", "X-Recording-Remove", "false"), 200, tpListAnswer)
	}
	httpcheck.Expect(t, "consumed", p.send(pid, "playback", up.URL, "GET", tpListTarget, ""), 200, tpListAnswer)
	expectMismatch(t, "after it was consumed", p.send(pid, "playback", up.URL, "GET", tpListTarget, ""), "No records to match")
	expectKnownError(t, "a bad x-recording-remove", p.send(pid, "playback", up.URL, "GET", tpListTarget, "", "X-Recording-Remove", "maybe"), http.StatusBadRequest)
	p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", pid, "X-Purge-Inmemory-Recording", "true")
	expectKnownError(t, "playback of a purged recording", p.admin("/Playback/Start", "", "X-Recording-Id", id), http.StatusBadRequest)
}

// x-recording-assets-file restores the recordings with git and resolves the file inside them.
func TestTestProxyPlaybackFromAssets(t *testing.T) {
	git := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	// An assets repository with a recording at a tag, as Azure/azure-sdk-assets holds them.
	base := t.TempDir()
	work := t.TempDir()
	git(base, "init", "-q", "--bare", filepath.Join(base, "Azure", "azure-sdk-assets"))
	git(work, "init", "-q")
	p := newTPServer(t, WithRestore((&assets.Store{BaseURL: "file://" + base}).Restore))
	p.writeRecording("staging.json", nil, tpInteraction("GET", tpARM+"/from-assets", "", 200, `{"restored":true}`))
	dst := filepath.Join(work, "js", "sdk", "x", "recordings", "node", "s", "recording_t.json")
	os.MkdirAll(filepath.Dir(dst), 0o755)
	os.Rename(filepath.Join(p.storage, "staging.json"), dst)
	git(work, "add", "-A")
	git(work, "commit", "-q", "-m", "r")
	git(work, "tag", "js/x_0123456789")
	git(work, "push", "-q", filepath.Join(base, "Azure", "azure-sdk-assets"), "refs/tags/js/x_0123456789")
	// The code repository: the storage root, with sdk/x/assets.json.
	git(p.storage, "init", "-q")
	os.MkdirAll(filepath.Join(p.storage, "sdk", "x"), 0o755)
	os.WriteFile(filepath.Join(p.storage, "sdk", "x", "assets.json"), []byte(`{"AssetsRepo":"Azure/azure-sdk-assets","AssetsRepoPrefixPath":"js","TagPrefix":"js/x","Tag":"js/x_0123456789"}`), 0o644)

	r := p.mustAdmin("/Playback/Start", `{"x-recording-file":"sdk/x/recordings/node/s/recording_t.json","x-recording-assets-file":"sdk/x/assets.json"}`)
	pid, _ := p.playbackStarted(r)
	httpcheck.Expect(t, "playback from the restored assets", p.send(pid, "playback", tpARM, "GET", "/from-assets", ""), 200, `{"restored":true}`)
	if _, err := os.Stat(filepath.Join(p.storage, ".assets", ".breadcrumb")); err != nil {
		t.Errorf("no .breadcrumb in the storage root's .assets: %v", err)
	}
}
