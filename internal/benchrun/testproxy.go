package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/azvcr/azvcr/redact"
)

// testProxy is `azvcr start`, the drop-in for Microsoft's test-proxy, on a port of its choosing.
type testProxy struct {
	*proc
	base    string // http://127.0.0.1:port
	storage string
}

func (h *harness) startTestProxy(name string, args ...string) (*testProxy, error) {
	storage := filepath.Join(h.work, name)
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return nil, err
	}
	argv := append([]string{h.azvcr, "start", "--storage-location", storage}, args...)
	p, err := h.start(name, nil, append(argv, "--", "--urls", "http://127.0.0.1:0")...)
	if err != nil {
		return nil, err
	}
	addr, err := p.waitLine("Now listening on: http://", 30*time.Second)
	if err != nil {
		return nil, err
	}
	return &testProxy{proc: p, base: "http://" + addr, storage: storage}, nil
}

// admin calls an admin route and returns the x-recording-id it answers with.
func (tp *testProxy) admin(route, id, body string) (string, error) {
	return tp.adminWithin(route, id, body, 0)
}

// adminWithin is admin with a timeout (0: none).
func (tp *testProxy) adminWithin(route, id, body string, timeout time.Duration) (string, error) {
	req, _ := http.NewRequest("POST", tp.base+route, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if id != "" {
		req.Header.Set("x-recording-id", id)
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return "", err
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s: %s %s", route, resp.Status, msg)
	}
	return resp.Header.Get("x-recording-id"), nil
}

func (tp *testProxy) dialer() dialer {
	return dialer{addr: strings.TrimPrefix(tp.base, "http://"), host: ""}
}

// proxied is corpus request i as a harness sends it to the test-proxy: addressed to the proxy,
// the upstream named in x-recording-upstream-base-uri. Test-proxy's default matcher compares
// X-Ms-Activity-Id, so the client sends the one in the recording.
func (tp *testProxy) proxied(i int, id, mode string) *request {
	it := live(i)
	if _, ok := it.Request.Headers["X-Ms-Activity-Id"]; ok {
		it.Request.Headers["X-Ms-Activity-Id"] = []string{redact.ZeroGUID}
	}
	host := it.Request.Host
	target := strings.TrimPrefix(strings.TrimPrefix(it.Request.URL, "https://"), host)
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", it.Request.Method, target, strings.TrimPrefix(tp.base, "http://"))
	it.Request.Headers.Write(&b)
	fmt.Fprintf(&b, "X-Recording-Id: %s\r\nX-Recording-Mode: %s\r\nX-Recording-Upstream-Base-Uri: https://%s\r\n\r\n", id, mode, host)
	b.WriteString(it.Request.Body)
	return &request{wire: b.Bytes(), code: it.Response.Code, length: len(it.Response.Body)}
}

// playbackStart: /Playback/Start of a 1,000-entry test-proxy recording, alone and with the first
// answer (azvcr sanitizes and indexes the recording at the first request, as test-proxy does).
func (h *harness) playbackStart() error {
	tp, err := h.startTestProxy("testproxy-playback")
	if err != nil {
		return err
	}
	defer tp.stop()
	size, err := writeRecording(filepath.Join(tp.storage, "rec1000.json"), 1000)
	if err != nil {
		return err
	}
	var starts, firsts []time.Duration
	profiled := h.captureDuring(tp.proc, "testproxy-playback-start")
	defer profiled()
	for n := range 11 {
		t0 := time.Now()
		id, err := tp.admin("/Playback/Start", "", `{"x-recording-file":"rec1000.json"}`)
		if err != nil {
			return err
		}
		started := time.Since(t0)
		first := tp.proxied(getInteraction, id, "playback")
		first.length = -1 // the session's sanitizers rewrite the recorded body
		if err := once(tp.dialer(), first); err != nil {
			return fmt.Errorf("first playback answer: %w", err)
		}
		answered := time.Since(t0)
		if _, err := tp.admin("/Playback/Stop", id, ""); err != nil {
			return err
		}
		if n > 0 { // the first warms the process up
			starts, firsts = append(starts, started), append(firsts, answered)
		}
	}
	slices.Sort(starts)
	slices.Sort(firsts)
	mid := len(starts) / 2
	h.add(row{measure: "test-proxy /Playback/Start, 1,000 entries", azvcr: dur(starts[mid]), target: "≤ 30 ms", checked: true, ok: starts[mid] <= 30*time.Millisecond,
		note: fmt.Sprintf("median of %d; recording %s", len(starts), mb(size))})
	h.add(row{measure: "test-proxy /Playback/Start + first answer, 1,000 entries", azvcr: dur(firsts[mid]), target: "≤ 30 ms", checked: true, ok: firsts[mid] <= 30*time.Millisecond,
		note: "the recording is sanitized (153 central sanitizers) and indexed at the first request"})
	return nil
}

// testProxySave: a test-proxy record session of 100,000 interactions through the floor, then the
// /Record/Stop that sanitizes, checks and writes them as one JSON file.
func (h *harness) testProxySave() error {
	tp, err := h.startTestProxy("testproxy-record", "--resolve", cosmosHost+"="+h.floorAddr, "--resolve", armHost+"="+h.floorAddr, "--upstream-ca", h.pki.caFile)
	if err != nil {
		return err
	}
	defer tp.stop()
	id, err := tp.admin("/Record/Start", "", `{"x-recording-file":"rec100000.json"}`)
	if err != nil {
		return err
	}
	const n = 100_000
	src := func(k int64) *request {
		if k >= n {
			return nil
		}
		return tp.proxied(int(k), id, "record")
	}
	m, err := h.load("test-proxy record of 100,000", tp.dialer(), 16, src, 0, 0, tp.proc, h.floor)
	if err != nil {
		return err
	}
	before := tp.statusKB("VmRSS")
	if err := tp.resetPeak(); err != nil {
		return err
	}
	profiled := h.captureDuring(tp.proc, "testproxy-record-stop")
	t0 := time.Now()
	_, err = tp.adminWithin("/Record/Stop", id, `{"seed":"bench"}`, h.patience)
	took := time.Since(t0)
	peak := tp.statusKB("VmHWM")
	profiled()
	if took >= h.patience {
		tp.kill()
		h.add(row{measure: "test-proxy /Record/Stop, 100,000 entries", azvcr: "> " + dur(h.patience), target: "≤ 3 s", checked: true,
			note: fmt.Sprintf("stopped waiting after %s, peak RSS %s by then (%s before); recorded at %s over 16 connections; -patience waits longer",
				dur(h.patience), mib(peak), mib(before), rate(m.rate()))})
		return nil
	}
	if err != nil {
		return err
	}
	st, err := os.Stat(filepath.Join(tp.storage, "rec100000.json"))
	if err != nil {
		return err
	}
	h.add(row{measure: "test-proxy /Record/Stop, 100,000 entries", azvcr: dur(took), target: "≤ 3 s", checked: true, ok: took <= 3*time.Second,
		note: fmt.Sprintf("recording %s; recorded at %s over 16 connections (%s)", mb(st.Size()), rate(m.rate()), m.note("server side"))})
	h.add(row{measure: "peak RSS in /Record/Stop, 100,000 entries", azvcr: mib(peak), ratio: fmt.Sprintf("%.2f× the file", float64(peak*1024)/float64(st.Size())),
		target: "≤ 2× the file", checked: true, ok: peak*1024 <= 2*st.Size(), note: fmt.Sprintf("RSS before the stop %s (the session's recording in memory)", mib(before))})
	return nil
}

// captureDuring profiles the process from now until the returned func is called: consecutive
// ten-second CPU profiles (a profile cut short is lost) merged into one, and an allocation profile
// with the one from the start beside it as its .base. It does nothing when not profiling.
func (h *harness) captureDuring(p *proc, label string) func() {
	if h.profile == "" || p.pprof == "" {
		return func() {}
	}
	out := filepath.Join(h.profile, label)
	fetch("http://"+p.pprof+"/debug/pprof/allocs?gc=1", out+".allocs.pprof.base")
	stopped := make(chan struct{})
	parts := make(chan []string, 1)
	go func() {
		var files []string
		for n := 0; ; n++ {
			f := fmt.Sprintf("%s.cpu-%d.pprof", out, n)
			if err := fetch("http://"+p.pprof+"/debug/pprof/profile?seconds=10", f); err != nil {
				fmt.Fprintf(h.progress, "bench: profile of %s: %v\n", label, err)
				break
			}
			files = append(files, f)
			select {
			case <-stopped:
				parts <- files
				return
			default:
			}
		}
		parts <- files
	}()
	time.Sleep(200 * time.Millisecond) // the first profile has started before what it is to see
	return func() {
		close(stopped)
		files := <-parts
		fetch("http://"+p.pprof+"/debug/pprof/allocs?gc=1", out+".allocs.pprof")
		merged, err := os.Create(out + ".cpu.pprof")
		if err != nil {
			return
		}
		defer merged.Close()
		cmd := exec.Command(h.goTool, append([]string{"tool", "pprof", "-proto"}, files...)...)
		cmd.Stdout = merged
		if err := cmd.Run(); err == nil {
			for _, f := range files {
				os.Remove(f)
			}
		}
	}
}
