package proxy

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/redact"
)

// Headers of the Azure SDK test-proxy protocol.
const (
	tpRecordingID  = "X-Recording-Id"
	tpMode         = "X-Recording-Mode"
	tpUpstream     = "X-Recording-Upstream-Base-Uri"
	tpSkip         = "X-Recording-Skip"
	tpAbstraction  = "X-Abstraction-Identifier"
	tpMismatch     = "X-Request-Mismatch"
	tpMismatchText = "X-Request-Mismatch-Error"
)

// testProxy serves Microsoft's test-proxy protocol on the same engine as the forward proxy:
// recording and playback sessions, each keyed by x-recording-id and isolated from the others,
// with sanitizers (mapped onto azvcr's redaction rules) and matcher settings server-wide or per
// session.
type testProxy struct {
	srv     *Server
	storage string
	routes  map[string]http.HandlerFunc // admin routes, lower case

	mu        sync.Mutex
	sessions  map[string]*tpSession
	finished  map[string]*cassette.Cassette // stopped in-memory recordings, for playback by id
	sanitizer []namedRule                   // server-wide, in the order added
	ignore    matcher.Ignore                // server-wide matcher settings
	transform []tpTransform
}

type namedRule struct {
	id   string
	rule redact.Rule
}

type tpTransform struct {
	id           string
	header, val  string
	ifURI        string
	echoClientID bool
}

type tpSession struct {
	id     string
	mode   string // "record" or "playback"
	file   string // absolute path; "" for in-memory recordings
	vars   map[string]string
	index  *matcher.Index          // playback
	played []*cassette.Interaction // playback: the recording, to re-index on SetMatcher
	mu     sync.Mutex
	record []*cassette.Interaction // record
	rules  []namedRule             // session sanitizers
}

func newTestProxy(s *Server, storage string) *testProxy {
	if storage == "" {
		storage, _ = os.Getwd()
	}
	tp := &testProxy{srv: s, storage: storage, sessions: map[string]*tpSession{}, finished: map[string]*cassette.Cassette{}}
	tp.routes = map[string]http.HandlerFunc{
		"/admin/isalive":          tp.isAlive,
		"/record/start":           tp.recordStart,
		"/record/stop":            tp.recordStop,
		"/playback/start":         tp.playbackStart,
		"/playback/stop":          tp.playbackStop,
		"/admin/addsanitizer":     tp.addSanitizer,
		"/admin/addsanitizers":    tp.addSanitizers,
		"/admin/removesanitizers": tp.removeSanitizers,
		"/admin/setmatcher":       tp.setMatcher,
		"/admin/addtransform":     tp.addTransform,
		"/admin/reset":            tp.reset,
		"/admin/setrecordingoptions": func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // accepted; azvcr has no redirect or transport options to set
			w.WriteHeader(http.StatusOK)
		},
	}
	return tp
}

// serve answers the request if it belongs to the test-proxy protocol.
func (tp *testProxy) serve(w http.ResponseWriter, r *http.Request) bool {
	// As in test-proxy, traffic carrying a single x-recording-mode of record or playback is proxied
	// whatever its path; everything else goes to the admin routes.
	if modes := r.Header.Values(tpMode); len(modes) == 1 && (strings.EqualFold(modes[0], "record") || strings.EqualFold(modes[0], "playback")) {
		tp.proxied(w, r)
		return true
	}
	route := strings.ToLower(strings.TrimSuffix(r.URL.Path, "/"))
	if h, ok := tp.routes[route]; ok {
		h(w, r)
		return true
	}
	return false
}

func (tp *testProxy) isAlive(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

// tpError answers in the test-proxy's error shape: a JSON body and the message, base64, in
// x-request-known-exception-error.
func tpError(w http.ResponseWriter, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.Header().Set("Content-Type", "application/json;")
	w.Header().Set("X-Request-Known-Exception", "true")
	w.Header().Set("X-Request-Known-Exception-Error", base64.StdEncoding.EncodeToString([]byte(msg)))
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"Message": msg, "Status": strings.ReplaceAll(http.StatusText(code), " ", "")})
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// startBody is the JSON body of /Record/Start and /Playback/Start.
type startBody struct {
	File   string `json:"x-recording-file"`
	Assets string `json:"x-recording-assets-file"`
}

func readStart(r *http.Request) (startBody, error) {
	var b startBody
	data, err := io.ReadAll(r.Body)
	if err != nil || len(strings.TrimSpace(string(data))) == 0 {
		return b, err
	}
	return b, json.Unmarshal(data, &b)
}

// path resolves a recording file against the storage location.
func (tp *testProxy) path(file string) string {
	if filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(tp.storage, filepath.FromSlash(file))
}

func (tp *testProxy) recordStart(w http.ResponseWriter, r *http.Request) {
	b, err := readStart(r)
	if err != nil {
		tpError(w, http.StatusBadRequest, "Record/Start: body is not JSON: %v", err)
		return
	}
	sess := &tpSession{id: newID(), mode: "record"}
	if b.File != "" {
		sess.file = tp.path(b.File)
	}
	tp.mu.Lock()
	tp.sessions[sess.id] = sess
	tp.mu.Unlock()
	tp.srv.log.Info("test-proxy record started", "id", sess.id, "file", sess.file)
	w.Header().Set(tpRecordingID, sess.id)
	w.WriteHeader(http.StatusOK)
}

func (tp *testProxy) session(w http.ResponseWriter, r *http.Request, mode string) *tpSession {
	id := r.Header.Get(tpRecordingID)
	tp.mu.Lock()
	sess := tp.sessions[id]
	tp.mu.Unlock()
	if sess == nil || (mode != "" && sess.mode != mode) {
		tpError(w, http.StatusBadRequest, "There is no active %s session under recording id %q.", orAny(mode), id)
		return nil
	}
	return sess
}

func orAny(mode string) string {
	if mode == "" {
		return "recording or playback"
	}
	return mode
}

// recordStop saves the session's interactions as test-proxy JSON (or YAML, when the file name
// says so), with the variables the body carries.
func (tp *testProxy) recordStop(w http.ResponseWriter, r *http.Request) {
	sess := tp.session(w, r, "record")
	if sess == nil {
		return
	}
	vars := map[string]string{}
	if data, _ := io.ReadAll(r.Body); len(strings.TrimSpace(string(data))) > 0 {
		var raw map[string]any
		if err := json.Unmarshal(data, &raw); err != nil {
			tpError(w, http.StatusBadRequest, "Record/Stop: variables must be a JSON object: %v", err)
			return
		}
		for k, v := range raw {
			if s, ok := v.(string); ok {
				vars[k] = s
			} else {
				vars[k] = fmt.Sprint(v)
			}
		}
	}
	tp.mu.Lock()
	delete(tp.sessions, sess.id)
	tp.mu.Unlock()
	sess.mu.Lock()
	c := &cassette.Cassette{Version: cassette.Version, Interactions: sess.record}
	sess.mu.Unlock()
	if r.Header.Get(tpSkip) != "" && strings.EqualFold(r.Header.Get(tpSkip), "request-response") {
		w.WriteHeader(http.StatusOK)
		return
	}
	if sess.file == "" {
		c.Variables = vars
		tp.mu.Lock()
		tp.finished[sess.id] = c
		tp.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := os.MkdirAll(filepath.Dir(sess.file), 0o755); err != nil {
		tpError(w, http.StatusInternalServerError, "Record/Stop: %v", err)
		return
	}
	var err error
	if isYAML(sess.file) {
		c.Variables = vars
		err = cassette.Save(sess.file, c)
	} else {
		err = testproxyjson.Save(sess.file, c, vars)
	}
	if err != nil {
		tpError(w, http.StatusInternalServerError, "Record/Stop: saving %s: %v", sess.file, err)
		return
	}
	tp.srv.log.Info("test-proxy recording saved", "id", sess.id, "file", sess.file, "interactions", len(c.Interactions))
	w.WriteHeader(http.StatusOK)
}

func isYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// playbackStart loads a recording (a file, or a stopped in-memory recording named by
// x-recording-id) and answers with its variables.
func (tp *testProxy) playbackStart(w http.ResponseWriter, r *http.Request) {
	b, err := readStart(r)
	if err != nil {
		tpError(w, http.StatusBadRequest, "Playback/Start: body is not JSON: %v", err)
		return
	}
	var c *cassette.Cassette
	vars := map[string]string{}
	file := ""
	switch {
	case b.File != "":
		file = tp.path(b.File)
		if isYAML(file) {
			c, err = cassette.Load(file)
			if c != nil {
				vars = c.Variables
			}
		} else {
			c, vars, err = testproxyjson.Load(file)
		}
		if os.IsNotExist(err) {
			tpError(w, http.StatusNotFound, "Recording file path %s does not exist.", file)
			return
		}
		if err != nil {
			tpError(w, http.StatusBadRequest, "Playback/Start: %v", err)
			return
		}
	default:
		tp.mu.Lock()
		c = tp.finished[r.Header.Get(tpRecordingID)]
		tp.mu.Unlock()
		if c == nil {
			tpError(w, http.StatusBadRequest, "Playback/Start: no x-recording-file, and no finished in-memory recording under x-recording-id %q", r.Header.Get(tpRecordingID))
			return
		}
		vars = c.Variables
	}
	sess := &tpSession{id: newID(), mode: "playback", file: file, vars: vars, played: c.Interactions}
	tp.mu.Lock()
	ignore := tp.ignore
	tp.mu.Unlock()
	if sess.index, err = tp.index(sess.played, ignore); err != nil {
		tpError(w, http.StatusBadRequest, "Playback/Start: %s: %v", file, err)
		return
	}
	tp.mu.Lock()
	tp.sessions[sess.id] = sess // registered only once it can answer
	tp.mu.Unlock()
	if vars == nil {
		vars = map[string]string{}
	}
	tp.srv.log.Info("test-proxy playback started", "id", sess.id, "file", file, "interactions", len(c.Interactions))
	w.Header().Set(tpRecordingID, sess.id)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(vars)
}

func (tp *testProxy) index(its []*cassette.Interaction, ig matcher.Ignore) (*matcher.Index, error) {
	return matcher.New(its, matcher.WithRepeat(tp.srv.cfg.repeat), matcher.WithIgnore(ig))
}

func (tp *testProxy) playbackStop(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(tpRecordingID)
	tp.mu.Lock()
	sess := tp.sessions[id]
	if sess != nil && sess.mode == "playback" {
		delete(tp.sessions, id)
	}
	tp.mu.Unlock()
	if sess == nil || sess.mode != "playback" {
		tpError(w, http.StatusBadRequest, "There is no active playback session under recording id %q.", id)
		return
	}
	sess.mu.Lock()
	st := sess.index.Stats()
	sess.mu.Unlock()
	tp.srv.log.Info("test-proxy playback stopped", "id", id, "replayed", st.Replayed, "unused", st.Unused, "misses", st.Misses)
	w.WriteHeader(http.StatusOK)
}

// redactor is azvcr's rules, then the server-wide sanitizers, then the session's.
func (tp *testProxy) redactor(sess *tpSession) redact.Redactor {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	r := append(redact.Redactor{}, tp.srv.redactor...)
	for _, n := range tp.sanitizer {
		r = append(r, n.rule)
	}
	sess.mu.Lock()
	for _, n := range sess.rules {
		r = append(r, n.rule)
	}
	sess.mu.Unlock()
	return r
}

// proxied answers a request a test sends through the proxy for a session.
func (tp *testProxy) proxied(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(tpRecordingID)
	if id == "" {
		tpError(w, http.StatusBadRequest, "Expected header x-recording-id is not populated in request.")
		return
	}
	tp.mu.Lock()
	sess := tp.sessions[id]
	tp.mu.Unlock()
	if sess == nil {
		tpError(w, http.StatusBadRequest, "There is no active %s session under recording id %s.", strings.ToLower(r.Header.Get(tpMode)), id)
		return
	}
	base, err := url.Parse(r.Header.Get(tpUpstream))
	if err != nil || base.Scheme == "" || base.Host == "" {
		tpError(w, http.StatusBadRequest, "The value present in header 'x-recording-upstream-base-uri' is not a valid hostname: %q.", r.Header.Get(tpUpstream))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		tpError(w, http.StatusBadRequest, "reading the request body: %v", err)
		return
	}
	// The URI is the upstream base plus the raw request target, exactly as sent.
	target := strings.TrimSuffix(base.Scheme+"://"+base.Host+base.EscapedPath(), "/") + r.RequestURI
	out := r.Clone(r.Context())
	out.Header = cleanHeader(r.Header)
	for h := range out.Header { // the protocol's own headers never reach the upstream or the file
		if strings.HasPrefix(strings.ToLower(h), "x-recording-") {
			out.Header.Del(h)
		}
	}
	out.URL, _ = url.Parse(target)
	out.Host = base.Host
	live := requestFromHTTP(out, body)

	var resp *http.Response
	if sess.mode == "playback" {
		resp = tp.playback(sess, out, live)
	} else {
		resp = tp.recordExchange(sess, out, live, body, r.Header.Get(tpSkip))
	}
	tp.shape(out, resp)
	writeResponse(w, resp)
}

func (tp *testProxy) playback(sess *tpSession, r *http.Request, live cassette.Request) *http.Response {
	probe := cloneRequest(live)
	tp.redactor(sess).Request(&probe)
	sess.mu.Lock()
	index := sess.index
	sess.mu.Unlock()
	it, miss := index.Next(&probe)
	if it == nil {
		tp.srv.log.Warn("test-proxy: no recording", "id", sess.id, "miss", miss.String())
		data, _ := json.MarshalIndent(missBody{Code: "AzvcrNoRecording", Message: "Unable to find a record for the request " + miss.String(), Miss: miss}, "", "  ")
		resp := bodyResponse(r, http.StatusNotFound, "application/json;", data)
		resp.Header.Set(tpMismatch, "true")
		resp.Header.Set(tpMismatchText, base64.StdEncoding.EncodeToString([]byte("Unable to find a record for the request "+miss.String())))
		resp.Header.Set(MissHeader, headerSafe(miss.String()))
		return resp
	}
	return shapeReplayed(r, responseFromCassette(r, &it.Response))
}

func (tp *testProxy) recordExchange(sess *tpSession, r *http.Request, live cassette.Request, body []byte, skip string) *http.Response {
	resp, rec := tp.srv.roundTrip(r, live, body)
	if rec == nil || strings.EqualFold(skip, "request-response") {
		return resp
	}
	it := &cassette.Interaction{Request: cloneRequest(live), Response: cloneResponse(*rec)}
	if strings.EqualFold(skip, "request-body") {
		it.Request.Body = ""
	}
	tp.redactor(sess).Interaction(it)
	sess.mu.Lock()
	it.ID = len(sess.record)
	sess.record = append(sess.record, it)
	sess.mu.Unlock()
	return resp
}

// shape echoes the client's request and client ids, as test-proxy does, and applies header
// transforms.
func (tp *testProxy) shape(r *http.Request, resp *http.Response) {
	for _, h := range []string{"X-Ms-Client-Request-Id", "X-Ms-Client-Id"} {
		if id := r.Header.Get(h); id != "" {
			resp.Header.Set(h, id)
		}
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for _, t := range tp.transform {
		if t.header != "" && (t.ifURI == "" || strings.Contains(r.URL.String(), t.ifURI)) {
			resp.Header.Set(t.header, t.val)
		}
	}
}

func writeResponse(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// sanitizerRequest is one entry of /Admin/AddSanitizers.
type sanitizerRequest struct {
	Name string          `json:"Name"`
	Body json.RawMessage `json:"Body"`
}

func (tp *testProxy) addSanitizer(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, err := tp.register(r.Header.Get(tpRecordingID), r.Header.Get(tpAbstraction), body)
	if err != nil {
		tpError(w, http.StatusBadRequest, "%v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"Sanitizer": id})
}

func (tp *testProxy) addSanitizers(w http.ResponseWriter, r *http.Request) {
	var list []sanitizerRequest
	if err := json.NewDecoder(r.Body).Decode(&list); err != nil {
		tpError(w, http.StatusBadRequest, "AddSanitizers: want a JSON array of {Name, Body}: %v", err)
		return
	}
	var ids []string
	for _, s := range list {
		id, err := tp.register(r.Header.Get(tpRecordingID), s.Name, s.Body)
		if err != nil {
			tpError(w, http.StatusBadRequest, "%v", err)
			return
		}
		ids = append(ids, id)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string][]string{"Sanitizers": ids})
}

// register adds a sanitizer server-wide, or to the session named by recordingID.
func (tp *testProxy) register(recordingID, kind string, body []byte) (string, error) {
	rule, err := sanitizerRule(kind, body)
	if err != nil {
		return "", err
	}
	n := namedRule{id: newID(), rule: rule}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if recordingID == "" {
		tp.sanitizer = append(tp.sanitizer, n)
		return n.id, nil
	}
	sess := tp.sessions[recordingID]
	if sess == nil {
		return "", fmt.Errorf("no active session under recording id %q", recordingID)
	}
	sess.mu.Lock()
	sess.rules = append(sess.rules, n)
	sess.mu.Unlock()
	return n.id, nil
}

func (tp *testProxy) removeSanitizers(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Sanitizers []string `json:"Sanitizers"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		tpError(w, http.StatusBadRequest, "RemoveSanitizers: want {\"Sanitizers\": [ids]}: %v", err)
		return
	}
	removed := []string{}
	tp.mu.Lock()
	for _, id := range body.Sanitizers {
		if i := indexOfRule(tp.sanitizer, id); i >= 0 {
			tp.sanitizer = append(tp.sanitizer[:i], tp.sanitizer[i+1:]...)
			removed = append(removed, id)
			continue
		}
		for _, sess := range tp.sessions {
			sess.mu.Lock()
			if i := indexOfRule(sess.rules, id); i >= 0 {
				sess.rules = append(sess.rules[:i], sess.rules[i+1:]...)
				removed = append(removed, id)
			}
			sess.mu.Unlock()
		}
	}
	tp.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string][]string{"Removed": removed})
}

func indexOfRule(rules []namedRule, id string) int {
	for i, n := range rules {
		if n.id == id {
			return i
		}
	}
	return -1
}

// setMatcher maps test-proxy matchers onto what azvcr's matching leaves out.
func (tp *testProxy) setMatcher(w http.ResponseWriter, r *http.Request) {
	var ig matcher.Ignore
	switch kind := r.Header.Get(tpAbstraction); kind {
	case "BodilessMatcher":
		ig.Body = true
	case "HeaderlessMatcher":
		ig.Headers = true
	case "CustomDefaultMatcher":
		var b struct {
			CompareBodies          *bool  `json:"compareBodies"`
			ExcludedHeaders        string `json:"excludedHeaders"`
			IgnoredHeaders         string `json:"ignoredHeaders"`
			IgnoredQueryParameters string `json:"ignoredQueryParameters"`
		}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil && err != io.EOF {
			tpError(w, http.StatusBadRequest, "SetMatcher: %v", err)
			return
		}
		ig.Body = b.CompareBodies != nil && !*b.CompareBodies
		ig.HeaderNames = append(splitList(b.ExcludedHeaders), splitList(b.IgnoredHeaders)...)
		ig.QueryParams = splitList(b.IgnoredQueryParameters)
	default:
		tpError(w, http.StatusBadRequest, "SetMatcher: unknown matcher %q (azvcr knows CustomDefaultMatcher, BodilessMatcher, HeaderlessMatcher)", kind)
		return
	}
	id := r.Header.Get(tpRecordingID)
	if id == "" {
		tp.mu.Lock()
		tp.ignore = ig
		tp.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	// For one session (harnesses set it right after /Playback/Start): its recording is indexed
	// again under the new settings, every entry unused.
	tp.mu.Lock()
	sess := tp.sessions[id]
	tp.mu.Unlock()
	if sess == nil {
		tpError(w, http.StatusBadRequest, "SetMatcher: there is no active session under recording id %s.", id)
		return
	}
	if sess.mode == "playback" {
		idx, err := tp.index(sess.played, ig)
		if err != nil {
			tpError(w, http.StatusBadRequest, "SetMatcher: %v", err)
			return
		}
		sess.mu.Lock()
		sess.index = idx
		sess.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (tp *testProxy) addTransform(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Key       string `json:"key"`
		Value     string `json:"value"`
		Condition *struct {
			URIRegex string `json:"uriRegex"`
		} `json:"condition"`
	}
	json.NewDecoder(r.Body).Decode(&b)
	t := tpTransform{id: newID()}
	switch kind := r.Header.Get(tpAbstraction); kind {
	case "HeaderTransform":
		t.header, t.val = b.Key, b.Value
		if b.Condition != nil {
			t.ifURI = b.Condition.URIRegex
		}
	case "ClientIdTransform", "ApiVersionTransform", "StorageRequestIdTransform":
		// azvcr already echoes x-ms-client-request-id on every replayed answer.
	default:
		tpError(w, http.StatusBadRequest, "AddTransform: unknown transform %q", kind)
		return
	}
	tp.mu.Lock()
	tp.transform = append(tp.transform, t)
	tp.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"Transform": t.id})
}

// reset drops sanitizers, matcher settings and transforms: server-wide ones, or a session's.
func (tp *testProxy) reset(w http.ResponseWriter, r *http.Request) {
	tp.mu.Lock()
	if id := r.Header.Get(tpRecordingID); id != "" {
		if sess := tp.sessions[id]; sess != nil {
			sess.mu.Lock()
			sess.rules = nil
			sess.mu.Unlock()
		}
	} else {
		tp.sanitizer, tp.ignore, tp.transform = nil, matcher.Ignore{}, nil
	}
	tp.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}
