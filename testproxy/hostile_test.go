package testproxy

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/internal/httpcheck"
)

// Recording files are read and written only inside the storage location: an absolute path
// elsewhere, or a relative one that climbs out with "..", is refused with 400 at
// /Record/Start and /Playback/Start, and /Record/Stop never writes outside it. Test-proxy
// itself takes such paths; azvcr does not write (or read) outside the folder it was given.
func TestRecordingPathsStayInTheStorageLocation(t *testing.T) {
	p := newTPServer(t)
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim.json")
	p.writeRecording("ok/In.json", nil, tpInteraction("GET", tpARM+"/in", "", 204, ""))
	for _, file := range []string{
		victim,
		filepath.Join(outside, "new.json"),
		"../" + filepath.Base(outside) + "/x.json",
		"ok/../../escape.json",
		"..",
		"/etc/passwd",
		p.storage, // the folder itself is not a file
	} {
		for _, route := range []string{"/Record/Start", "/Playback/Start"} {
			r := p.admin(route, startBodyJSON(file))
			msg := expectKnownError(t, route+" "+file, r, http.StatusBadRequest)
			if !strings.Contains(msg, "outside the storage location") || !strings.Contains(msg, "--storage-location") {
				t.Errorf("%s %s: message %q", route, file, msg)
			}
			if r.Header.Get("X-Recording-Id") != "" {
				t.Errorf("%s %s: a session was started", route, file)
			}
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("files written outside the storage location: %v", entries)
	}
	// Inside it, relative or absolute, recordings are found as ever.
	for _, file := range []string{"ok/In.json", "ok/In", filepath.Join(p.storage, "ok", "In.json"), "ok/sub/../In.json"} {
		id, _ := p.startPlayback(file)
		httpcheck.Expect(t, "playback of "+file, p.send(id, "playback", tpARM, "GET", "/in", ""), 204, "")
		p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)
	}
	id := p.startRecord(filepath.Join(p.storage, "deep", "er", "Rec.json"))
	p.mustAdmin("/Record/Stop", "", "X-Recording-Id", id)
	if _, err := os.Stat(filepath.Join(p.storage, "deep", "er", "Rec.json")); err != nil {
		t.Errorf("recording inside the storage location not written: %v", err)
	}
}

// With WithLoopbackHostsOnly (the command sets it when every listener is on loopback), a
// request whose Host is not a loopback name is refused: a web page cannot drive the admin API
// through a name that resolves to 127.0.0.1.
func TestLoopbackHostsOnly(t *testing.T) {
	p := newTPServer(t, WithLoopbackHostsOnly())
	for _, host := range []string{"evil.example", "evil.example:5000", "192.168.1.10:5000", "localhost.evil.example"} {
		req, _ := http.NewRequest("POST", p.base+"/Record/Start", strings.NewReader(startBodyJSON("x.json")))
		req.Host = host
		r := do(t, p.c, req)
		if msg := expectKnownError(t, "Host "+host, r, http.StatusForbidden); !strings.Contains(msg, "loopback") {
			t.Errorf("Host %s: message %q", host, msg)
		}
	}
	for _, host := range []string{"localhost:5000", "LOCALHOST", "127.0.0.1:5000", "[::1]:5000", "localhost."} {
		req, _ := http.NewRequest("POST", p.base+"/Admin/IsAlive", nil)
		req.Host = host
		if r := do(t, p.c, req); r.Code != http.StatusOK {
			t.Errorf("Host %s: %d %s", host, r.Code, r.Body)
		}
	}
	// Without the option (listening beyond loopback), any Host is served.
	q := newTPServer(t)
	req, _ := http.NewRequest("POST", q.base+"/Admin/IsAlive", nil)
	req.Host = "proxy.example:5000"
	if r := do(t, q.c, req); r.Code != http.StatusOK {
		t.Errorf("without the option: %d", r.Code)
	}
}

// A proxied request or an admin request with a body over the limit is refused with 413.
func TestTestProxyBodyLimit(t *testing.T) {
	p := newTPServer(t, WithMaxBodySize(1<<10))
	p.writeRecording("L.json", nil, tpInteraction("POST", tpARM+"/post", `{"a":1}`, 200, "{}"))
	id, _ := p.startPlayback("L.json")
	r := p.send(id, "playback", tpARM, "POST", "/post", `{"a":"`+strings.Repeat("x", 2<<10)+`"}`)
	if r.Code != http.StatusRequestEntityTooLarge || !strings.Contains(r.Body, "--max-body-size") {
		t.Errorf("proxied: %d %.200s", r.Code, r.Body)
	}
	httpcheck.Expect(t, "within the limit", p.send(id, "playback", tpARM, "POST", "/post", `{"a":1}`), 200, "{}")
	big := `{"x-recording-file":"` + strings.Repeat("a", 2<<10) + `.json"}`
	if r := p.admin("/Record/Start", big); r.Code != http.StatusBadRequest {
		t.Errorf("admin body over the limit: %d %s", r.Code, r.Body)
	}
}

func do(t *testing.T, c *http.Client, req *http.Request) httpcheck.Result {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpcheck.Result{Code: resp.StatusCode, Body: string(body), Header: resp.Header}
}
