package testproxy

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/testproxyjson"
)

// session is one recording or playback, with its own engine.
type session struct {
	id     string
	mode   string // "record" or "playback"
	file   string // absolute path; "" for in-memory recordings
	vars   map[string]string
	engine *engine.Engine
	played []*cassette.Interaction // playback: the recording, to index again on SetMatcher
	mu     sync.Mutex
	record []*cassette.Interaction // record
	rules  []namedRule             // session sanitizers
}

// Add keeps a recorded interaction until the session stops (engine.Sink).
func (sess *session) Add(it *cassette.Interaction) error {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	it.ID = len(sess.record)
	sess.record = append(sess.record, it)
	return nil
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
func (s *Server) path(file string) string {
	if filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(s.cfg.storage, filepath.FromSlash(file))
}

func (s *Server) recordStart(w http.ResponseWriter, r *http.Request) {
	b, err := readStart(r)
	if err != nil {
		knownError(w, http.StatusBadRequest, "Record/Start: body is not JSON: %v", err)
		return
	}
	sess := &session{id: newID(), mode: "record"}
	if b.File != "" {
		sess.file = s.path(b.File)
	}
	up := s.cfg.upstream
	if up == nil {
		up = noUpstream{}
	}
	sess.engine, err = engine.New(engine.Record, engine.WithSink(sess), engine.WithUpstream(up),
		engine.WithLogger(s.log), engine.WithRecordFilter(skipFilter))
	if err != nil {
		knownError(w, http.StatusInternalServerError, "Record/Start: %v", err)
		return
	}
	s.mu.Lock()
	s.sessions[sess.id] = sess
	s.refreshRedactor(sess)
	s.mu.Unlock()
	s.log.Info("test-proxy record started", "id", sess.id, "file", sess.file)
	w.Header().Set(hRecordingID, sess.id)
	w.WriteHeader(http.StatusOK)
}

// noUpstream answers every forwarded request with a 502: the server was given no transport.
type noUpstream struct{}

func (noUpstream) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("no upstream transport configured")
}

func (s *Server) session(w http.ResponseWriter, r *http.Request, mode string) *session {
	id := r.Header.Get(hRecordingID)
	s.mu.Lock()
	sess := s.sessions[id]
	s.mu.Unlock()
	if sess == nil || (mode != "" && sess.mode != mode) {
		knownError(w, http.StatusBadRequest, "There is no active %s session under recording id %q.", orAny(mode), id)
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
func (s *Server) recordStop(w http.ResponseWriter, r *http.Request) {
	sess := s.session(w, r, "record")
	if sess == nil {
		return
	}
	vars := map[string]string{}
	if data, _ := io.ReadAll(r.Body); len(strings.TrimSpace(string(data))) > 0 {
		var raw map[string]any
		if err := json.Unmarshal(data, &raw); err != nil {
			knownError(w, http.StatusBadRequest, "Record/Stop: variables must be a JSON object: %v", err)
			return
		}
		for k, v := range raw {
			if str, ok := v.(string); ok {
				vars[k] = str
			} else {
				vars[k] = fmt.Sprint(v)
			}
		}
	}
	s.mu.Lock()
	delete(s.sessions, sess.id)
	s.mu.Unlock()
	sess.mu.Lock()
	c := &cassette.Cassette{Version: cassette.Version, Interactions: sess.record}
	sess.mu.Unlock()
	if strings.EqualFold(r.Header.Get(hSkip), "request-response") {
		w.WriteHeader(http.StatusOK)
		return
	}
	if sess.file == "" {
		c.Variables = vars
		s.mu.Lock()
		s.finished[sess.id] = c
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := os.MkdirAll(filepath.Dir(sess.file), 0o755); err != nil {
		knownError(w, http.StatusInternalServerError, "Record/Stop: %v", err)
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
		knownError(w, http.StatusInternalServerError, "Record/Stop: saving %s: %v", sess.file, err)
		return
	}
	s.log.Info("test-proxy recording saved", "id", sess.id, "file", sess.file, "interactions", len(c.Interactions))
	w.WriteHeader(http.StatusOK)
}

func isYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// playbackStart loads a recording (a file, or a stopped in-memory recording named by
// x-recording-id) and answers with its variables.
func (s *Server) playbackStart(w http.ResponseWriter, r *http.Request) {
	b, err := readStart(r)
	if err != nil {
		knownError(w, http.StatusBadRequest, "Playback/Start: body is not JSON: %v", err)
		return
	}
	var c *cassette.Cassette
	vars := map[string]string{}
	file := ""
	switch {
	case b.File != "":
		file = s.path(b.File)
		if isYAML(file) {
			c, err = cassette.Load(file)
			if c != nil {
				vars = c.Variables
			}
		} else {
			c, vars, err = testproxyjson.Load(file)
		}
		if os.IsNotExist(err) {
			knownError(w, http.StatusNotFound, "Recording file path %s does not exist.", file)
			return
		}
		if err != nil {
			knownError(w, http.StatusBadRequest, "Playback/Start: %v", err)
			return
		}
	default:
		s.mu.Lock()
		c = s.finished[r.Header.Get(hRecordingID)]
		s.mu.Unlock()
		if c == nil {
			knownError(w, http.StatusBadRequest, "Playback/Start: no x-recording-file, and no finished in-memory recording under x-recording-id %q", r.Header.Get(hRecordingID))
			return
		}
		vars = c.Variables
	}
	sess := &session{id: newID(), mode: "playback", file: file, vars: vars, played: c.Interactions}
	s.mu.Lock()
	ignore := s.ignore
	s.mu.Unlock()
	idx, err := s.index(sess.played, ignore)
	if err != nil {
		knownError(w, http.StatusBadRequest, "Playback/Start: %s: %v", file, err)
		return
	}
	sess.engine, err = engine.New(engine.Replay, engine.WithIndex(idx), engine.WithLogger(s.log),
		engine.WithMissResponse(s.missResponse(sess.id)))
	if err != nil {
		knownError(w, http.StatusInternalServerError, "Playback/Start: %v", err)
		return
	}
	s.mu.Lock()
	s.sessions[sess.id] = sess // registered only once it can answer
	s.refreshRedactor(sess)
	s.mu.Unlock()
	if vars == nil {
		vars = map[string]string{}
	}
	s.log.Info("test-proxy playback started", "id", sess.id, "file", file, "interactions", len(c.Interactions))
	w.Header().Set(hRecordingID, sess.id)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(vars)
}

func (s *Server) index(its []*cassette.Interaction, ig matcher.Ignore) (*matcher.Index, error) {
	// Recorded requests get azvcr's rules too, as live ones do before matching.
	return matcher.New(s.cfg.redactor.RecordedRequests(its), matcher.WithRepeat(s.cfg.repeat), matcher.WithIgnore(ig))
}

func (s *Server) playbackStop(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(hRecordingID)
	s.mu.Lock()
	sess := s.sessions[id]
	if sess != nil && sess.mode == "playback" {
		delete(s.sessions, id)
	}
	s.mu.Unlock()
	if sess == nil || sess.mode != "playback" {
		knownError(w, http.StatusBadRequest, "There is no active playback session under recording id %q.", id)
		return
	}
	sum := sess.engine.Summary()
	s.log.Info("test-proxy playback stopped", "id", id, "replayed", sum.Replayed, "unused", sum.Unused, "misses", sum.Misses)
	w.WriteHeader(http.StatusOK)
}

// refreshRedactor gives the session's engine azvcr's rules, then the server-wide sanitizers, then
// the session's. Called with s.mu held, whenever one of them changes.
func (s *Server) refreshRedactor(sess *session) {
	r := append(redact.Redactor{}, s.cfg.redactor...)
	for _, n := range s.sanitizer {
		r = append(r, n.rule)
	}
	sess.mu.Lock()
	for _, n := range sess.rules {
		r = append(r, n.rule)
	}
	sess.mu.Unlock()
	sess.engine.SetRedactor(r)
}

// refreshRedactors does refreshRedactor for every session. Called with s.mu held.
func (s *Server) refreshRedactors() {
	for _, sess := range s.sessions {
		s.refreshRedactor(sess)
	}
}
