package testproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/httpcheck"
	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/testproxyjson"
)

// ---- 4: sanitizers ----

// The armcosmos harness: a live URI with a real subscription id, a real operation id and a
// random resource-group name must match a recording that holds the sanitized values.
func TestTestProxyServerSanitizersMatchSanitizedRecording(t *testing.T) {
	const (
		guidRe  = "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"
		opGUID  = "3f6c1a2b-9d8e-4f70-a1b2-c3d4e5f60718"
		recPath = "/subscriptions/" + redact.ZeroGUID + "/resourcegroups/go-sdk-test-rg/providers/Microsoft.DocumentDB/databaseAccounts/acct/operationResults/" + redact.ZeroGUID + "?api-version=2023-04-15"
		live    = "/subscriptions/" + tpSub + "/resourcegroups/go-sdk-test-4711/providers/Microsoft.DocumentDB/databaseAccounts/acct/operationResults/" + opGUID + "?api-version=2023-04-15"
	)
	// The harness marshals with json.MarshalIndent(v, "", ""): newlines, no indentation.
	body := func(v map[string]string) string {
		data, _ := json.MarshalIndent(v, "", "")
		return string(data)
	}
	guid := body(map[string]string{"value": redact.ZeroGUID, "regex": guidRe})
	cases := []struct {
		name  string
		kinds []string
		args  []string
	}{
		{"armcosmos: two GeneralRegexSanitizers",
			[]string{"GeneralRegexSanitizer", "GeneralRegexSanitizer"},
			[]string{guid, body(map[string]string{"value": "go-sdk-test-rg", "regex": `go-sdk-test-\d+`})}},
		{"GeneralRegexSanitizer and UriRegexSanitizer with groupForReplace",
			[]string{"GeneralRegexSanitizer", "UriRegexSanitizer"},
			[]string{guid, `{"value":"go-sdk-test-rg","regex":"resourcegroups/(?<rg>go-sdk-test-\\d+)/providers","groupForReplace":"rg"}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newTPServer(t)
			p.writeRecording("Ops.json", nil, tpInteraction("GET", tpARM+recPath, "", 200, `{"status":"Succeeded"}`))

			// Without sanitizers the live URI is not the recorded one.
			id, _ := p.startPlayback("Ops.json")
			expectMismatch(t, "before sanitizers", p.send(id, "playback", tpARM, "GET", live, "", "Authorization", "Bearer FakeToken"), "GET", opGUID)
			p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)

			ids := map[string]bool{}
			for i, kind := range tc.kinds {
				r := p.mustAdmin("/Admin/AddSanitizer", tc.args[i], "X-Abstraction-Identifier", kind)
				var got struct{ Sanitizer string }
				if err := json.Unmarshal([]byte(r.Body), &got); err != nil || got.Sanitizer == "" {
					t.Fatalf("AddSanitizer %s: body %q, want {\"Sanitizer\": id}", kind, r.Body)
				}
				ids[got.Sanitizer] = true
			}
			if len(ids) != len(tc.kinds) {
				t.Errorf("sanitizer ids %v are not distinct", ids)
			}
			id, _ = p.startPlayback("Ops.json")
			r := p.send(id, "playback", tpARM, "GET", live, "", "Authorization", "Bearer FakeToken")
			httpcheck.Expect(t, "sanitized live request", r, 200, `{"status":"Succeeded"}`)
			p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)
		})
	}
}

func TestTestProxyAddAndRemoveSanitizers(t *testing.T) {
	p := newTPServer(t)
	rec := tpARM + "/items/alpha-N/beta-N"
	p.writeRecording("AB.json", nil,
		tpInteraction("GET", rec, "", 200, `{"n":1}`),
		tpInteraction("GET", rec, "", 200, `{"n":2}`))

	r := p.mustAdmin("/Admin/AddSanitizers", `[
		{"Name": "UriRegexSanitizer", "Body": {"value": "alpha-N", "regex": "alpha-\\d+"}},
		{"Name": "GeneralRegexSanitizer", "Body": {"value": "beta-N", "regex": "beta-\\d+"}}
	]`)
	var added struct{ Sanitizers []string }
	if err := json.Unmarshal([]byte(r.Body), &added); err != nil || len(added.Sanitizers) != 2 || added.Sanitizers[0] == "" || added.Sanitizers[0] == added.Sanitizers[1] {
		t.Fatalf("AddSanitizers: %s, want {\"Sanitizers\": [two ids]}", r.Body)
	}
	id, _ := p.startPlayback("AB.json")
	httpcheck.Expect(t, "both sanitizers", p.send(id, "playback", tpARM, "GET", "/items/alpha-1/beta-2", ""), 200, `{"n":1}`)

	r = p.mustAdmin("/Admin/RemoveSanitizers", fmt.Sprintf(`{"Sanitizers": [%q, "no-such-id"]}`, added.Sanitizers[0]))
	var removed struct{ Removed []string }
	if err := json.Unmarshal([]byte(r.Body), &removed); err != nil || !slices.Equal(removed.Removed, added.Sanitizers[:1]) {
		t.Fatalf("RemoveSanitizers: %s, want {\"Removed\": [%q]}", r.Body, added.Sanitizers[0])
	}
	// A running session keeps the snapshot it started with.
	httpcheck.Expect(t, "running session after removal", p.send(id, "playback", tpARM, "GET", "/items/alpha-3/beta-4", ""), 200, `{"n":2}`)
	p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)
	// A new session starts without it: the general one still applies (the miss shows beta-N).
	id, _ = p.startPlayback("AB.json")
	expectMismatch(t, "new session after removal", p.send(id, "playback", tpARM, "GET", "/items/alpha-1/beta-2", ""), "alpha-1", "beta-N")
	httpcheck.Expect(t, "already sanitized URI", p.send(id, "playback", tpARM, "GET", "/items/alpha-N/beta-7", ""), 200, `{"n":1}`)

	r = p.mustAdmin("/Admin/RemoveSanitizers", fmt.Sprintf(`{"Sanitizers": [%q]}`, added.Sanitizers[0]))
	if err := json.Unmarshal([]byte(r.Body), &removed); err != nil || len(removed.Removed) != 0 {
		t.Errorf("removing a removed sanitizer: %s, want {\"Removed\": []}", r.Body)
	}
	expectKnownError(t, "removing nothing", p.admin("/Admin/RemoveSanitizers", `{"Sanitizers": []}`), http.StatusBadRequest)
}

func TestTestProxyBadSanitizers(t *testing.T) {
	p := newTPServer(t)
	cases := []struct {
		name, route, body string
		headers           []string
	}{
		{"unknown type", "/Admin/AddSanitizer", `{"value":"x"}`, []string{"X-Abstraction-Identifier", "NoSuchSanitizer"}},
		{"type names are case-sensitive", "/Admin/AddSanitizer", `{"value":"x","regex":"a"}`, []string{"X-Abstraction-Identifier", "generalregexsanitizer"}},
		{"no type", "/Admin/AddSanitizer", `{"value":"x","regex":"a"}`, nil},
		{"bad regex", "/Admin/AddSanitizer", `{"value":"x","regex":"("}`, []string{"X-Abstraction-Identifier", "GeneralRegexSanitizer"}},
		{"unknown session", "/Admin/AddSanitizer", `{"value":"x","regex":"a"}`, []string{"X-Abstraction-Identifier", "GeneralRegexSanitizer", "X-Recording-Id", "no-such-session"}},
		{"one unknown in a batch", "/Admin/AddSanitizers",
			`[{"Name":"GeneralRegexSanitizer","Body":{"value":"x","regex":"a"}},{"Name":"NoSuchSanitizer","Body":{}}]`, nil},
		{"batch not an array", "/Admin/AddSanitizers", `{"Name":"GeneralRegexSanitizer"}`, nil},
	}
	for _, tc := range cases {
		expectKnownError(t, tc.name, p.admin(tc.route, tc.body, tc.headers...), http.StatusBadRequest)
	}
}

// Session-level sanitizers apply to their session only, even with two sessions playing at once.
// (The answers say "src": a "from" key would be AZSDK3425's.)
func TestTestProxySessionSanitizersIsolated(t *testing.T) {
	p := newTPServer(t)
	const n = 25
	sessions := []struct{ name, file, value string }{
		{"A", "iso/A.json", "alpha"},
		{"B", "iso/B.json", "beta"},
	}
	ids := make([]string, len(sessions))
	for i, s := range sessions {
		var its []*cassette.Interaction
		for j := range n + 1 { // one left over for after the concurrent part
			its = append(its, tpInteraction("GET", tpARM+"/things/"+s.value, "", 200, fmt.Sprintf(`{"src":%q,"i":%d}`, s.name, j)))
		}
		p.writeRecording(s.file, nil, its...)
		ids[i], _ = p.startPlayback(s.file)
	}
	sanIDs := make([]string, len(sessions))
	for i, s := range sessions {
		r := p.mustAdmin("/Admin/AddSanitizer", fmt.Sprintf(`{"value":%q,"regex":"thing-\\d+"}`, s.value),
			"X-Abstraction-Identifier", "UriRegexSanitizer", "X-Recording-Id", ids[i])
		var got struct{ Sanitizer string }
		if json.Unmarshal([]byte(r.Body), &got); got.Sanitizer == "" {
			t.Fatalf("session AddSanitizer: %s", r.Body)
		}
		sanIDs[i] = got.Sanitizer
	}

	// Both sessions send the same live request at once; each must get its own recording's answers
	// in order. Had a session seen the other's sanitizer, its URI would not be its recording's.
	var wg sync.WaitGroup
	errs := make(chan string, 2*n+2)
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				req, _ := http.NewRequest("GET", p.base+fmt.Sprintf("/things/thing-%d", 100+j), nil)
				req.Header.Set("X-Recording-Id", ids[i])
				req.Header.Set("X-Recording-Mode", "playback")
				req.Header.Set("X-Recording-Upstream-Base-Uri", tpARM)
				req.Header.Set("Accept", "application/json")
				req.Header.Set("Authorization", "Bearer FakeToken")
				resp, err := p.c.Do(req)
				if err != nil {
					errs <- fmt.Sprintf("session %s #%d: %v", s.name, j, err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if want := fmt.Sprintf(`{"src":%q,"i":%d}`, s.name, j); resp.StatusCode != 200 || string(body) != want {
					errs <- fmt.Sprintf("session %s #%d: %d %s, want 200 %s", s.name, j, resp.StatusCode, body, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// A session without sanitizers of its own, on A's file: nothing of A's or B's applies.
	cid, _ := p.startPlayback("iso/A.json")
	expectMismatch(t, "third session", p.send(cid, "playback", tpARM, "GET", "/things/thing-1", ""), "thing-1")
	// Removing A's sanitizer from A: A no longer matches, B still does.
	r := p.mustAdmin("/Admin/RemoveSanitizers", fmt.Sprintf(`{"Sanitizers":[%q]}`, sanIDs[0]), "X-Recording-Id", ids[0])
	if !strings.Contains(r.Body, sanIDs[0]) {
		t.Errorf("RemoveSanitizers of a session sanitizer: %s", r.Body)
	}
	expectMismatch(t, "A after removal", p.send(ids[0], "playback", tpARM, "GET", "/things/thing-1", ""), "thing-1")
	httpcheck.Expect(t, "B after A's removal", p.send(ids[1], "playback", tpARM, "GET", "/things/thing-1", ""), 200, fmt.Sprintf(`{"src":"B","i":%d}`, n))
	for _, id := range append(ids, cid) {
		p.mustAdmin("/Playback/Stop", "", "X-Recording-Id", id)
	}
}

// Sanitizers in record mode decide what reaches the file; the client still gets the real answer.
func TestTestProxyRecordSanitizers(t *testing.T) {
	up := newARMUpstream(t)
	p := newTPServer(t, withUpstreamCA(t, up.caFile))
	sanitizers := []struct{ kind, body string }{
		{"BodyKeySanitizer", `{"jsonPath":"$..secretValue","value":"Sanitized"}`},
		{"HeaderRegexSanitizer", `{"key":"X-Custom-Tag","value":"REPLACED","regex":"topsecret-\\d+"}`},
		{"RemoveHeaderSanitizer", `{"headersForRemoval":"X-Remove-Me, X-Also-Remove"}`},
	}
	// Server-wide registrations reach sessions started after them; session ones their session.
	for i, s := range sanitizers {
		if i%2 == 1 {
			p.mustAdmin("/Admin/AddSanitizer", s.body, "X-Abstraction-Identifier", s.kind)
		}
	}
	id := p.startRecord("san/Rec.json")
	for i, s := range sanitizers {
		if i%2 == 0 {
			p.mustAdmin("/Admin/AddSanitizer", s.body, "X-Abstraction-Identifier", s.kind, "X-Recording-Id", id)
		}
	}
	r := p.send(id, "record", up.URL, "GET", tpSecretPath, "", "X-Remove-Me", "request side", "Authorization", tpRealAuth)
	if r.Code != 200 || !strings.Contains(r.Body, `"secretValue":"s3cr3t"`) || r.Header.Get("X-Custom-Tag") != "topsecret-12345" || r.Header.Get("X-Remove-Me") != "gone" {
		t.Errorf("the client did not get the real answer: %d %s %v", r.Code, r.Body, r.Header)
	}
	if got := up.requests()[0].header.Get("X-Remove-Me"); got != "request side" {
		t.Errorf("upstream got X-Remove-Me %q: sanitizers must not change what is sent", got)
	}
	p.mustAdmin("/Record/Stop", "", "X-Recording-Id", id)

	c, _, err := testproxyjson.Load(filepath.Join(p.storage, "san", "Rec.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != 1 {
		t.Fatalf("%d entries, want 1", len(c.Interactions))
	}
	it := c.Interactions[0]
	checks := []struct {
		what      string
		got, want []string
	}{
		{"BodyKeySanitizer", []string{it.Response.Body}, []string{`{"name":"Sanitized","properties":{"secretValue":"Sanitized","other":"keep"}}`}}, // name: AZSDK3493
		{"HeaderRegexSanitizer", tpHeader(it.Response.Headers, "X-Custom-Tag"), []string{"REPLACED"}},
		{"RemoveHeaderSanitizer, response", append(tpHeader(it.Response.Headers, "X-Remove-Me"), tpHeader(it.Response.Headers, "X-Also-Remove")...), nil},
		{"RemoveHeaderSanitizer, request", tpHeader(it.Request.Headers, "X-Remove-Me"), nil},
		{"AZSDK0000", tpHeader(it.Request.Headers, "Authorization"), []string{"Sanitized"}},
	}
	for _, c := range checks {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: the file holds %q, want %q", c.what, c.got, c.want)
		}
	}
}

// tpHeader finds a header whatever the spelling of its name in the file.
func tpHeader(h http.Header, name string) []string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}
