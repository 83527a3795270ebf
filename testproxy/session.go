package testproxy

import (
	"crypto/rand"
	"encoding/base64"
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
	source string // playback of an in-memory recording: its id
	vars   map[string]string
	engine *engine.Engine

	mu         sync.Mutex
	record     entries                 // record: what was recorded, unsanitized until Stop
	stopped    bool                    // record: Stop took the recording; later exchanges are dropped
	loaded     []*cassette.Interaction // playback: the recording as loaded
	prepared   bool                    // playback: loaded was sanitized and indexed
	index      *matcher.Index          // playback, once prepared
	sanitizers []string                // ids in force: the server-wide list at Start, then the session's own
	own        []string                // ids this session registered
	matcher    *matcher.RecordMatcher  // playback: set with x-recording-id; nil means the server's
	transforms []*transform            // playback: added with x-recording-id
}

// Add keeps a recorded interaction until the session stops (engine.Sink).
func (sess *session) Add(it *cassette.Interaction) error {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.stopped {
		return nil
	}
	it.ID = sess.record.Len()
	sess.record.add(it)
	return nil
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// captureHeaders is what test-proxy keeps of a request's headers: all of them (the protocol's
// own x-recording-* headers are already gone).
func captureHeaders(h http.Header) http.Header { return h.Clone() }

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

// recordingPath resolves a recording file as test-proxy does: inside the restored assets when an
// assets.json is named, else against the storage location; ".json" is added when missing.
// Unlike test-proxy, azvcr reads and writes recordings only inside that folder: an absolute
// path elsewhere, or one that climbs out of it with "..", is refused with 400.
func (s *Server) recordingPath(b startBody) (string, *httpError) {
	dir := s.cfg.storage
	if b.Assets != "" {
		assets := b.Assets
		if !filepath.IsAbs(assets) {
			assets = filepath.Join(s.cfg.storage, filepath.FromSlash(assets))
		}
		if _, err := os.Stat(assets); err != nil {
			return "", errorf(http.StatusBadRequest, "The provided assets.json path of %q does not exist.", assets)
		}
		if s.cfg.restore != nil {
			restored, err := s.cfg.restore(assets)
			if err != nil {
				return "", errorf(http.StatusInternalServerError, "%v", err)
			}
			dir = restored
		}
	}
	file := filepath.Clean(filepath.FromSlash(b.File))
	if !filepath.IsAbs(file) || b.Assets != "" {
		file = filepath.Join(dir, file)
	}
	if !strings.HasSuffix(file, ".json") && !isYAML(file) {
		file += ".json"
	}
	if !inside(dir, file) {
		return "", errorf(http.StatusBadRequest, "x-recording-file %q resolves to %s, outside the storage location %s: azvcr reads and writes recordings only under --storage-location (start it with --storage-location at the repository root, and name recordings relative to it)",
			b.File, file, dir)
	}
	return file, nil
}

// inside reports whether path lies within dir (and is not dir itself).
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func (s *Server) recordStart(w http.ResponseWriter, r *http.Request) {
	b, err := readStart(r)
	if err != nil {
		knownError(w, http.StatusBadRequest, "Record/Start: body is not JSON: %v", err)
		return
	}
	sess := &session{id: newID(), mode: "record", sanitizers: s.reg.serverList()}
	if b.File != "" {
		file, herr := s.recordingPath(b)
		if herr != nil {
			herr.write(w)
			return
		}
		sess.file = file
	}
	up := s.cfg.upstream
	if up == nil {
		up = noUpstream{}
	}
	// Sanitizers run when the session stops, over everything it recorded, as test-proxy's do.
	sess.engine, err = engine.New(engine.Record, engine.WithSink(sess), engine.WithUpstream(up), engine.WithLogger(s.log), engine.WithMaxBodySize(s.cfg.maxBody),
		engine.WithRecordFilter(skipFilter), engine.WithRedactor(redact.Redactor{}), engine.WithHeaderCapture(captureHeaders))
	if err != nil {
		knownError(w, http.StatusInternalServerError, "Record/Start: %v", err)
		return
	}
	s.mu.Lock()
	s.sessions[sess.id] = sess
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

// activeSession is the session a header names, or test-proxy's 400.
func (s *Server) activeSession(w http.ResponseWriter, id, mode string) *session {
	s.mu.Lock()
	sess := s.sessions[id]
	s.mu.Unlock()
	if sess == nil || (mode != "" && sess.mode != mode) {
		if mode == "" {
			knownError(w, http.StatusBadRequest, "%s is not an active session for either record or playback. Check the value being passed and try again.", id)
		} else {
			knownError(w, http.StatusBadRequest, "%s is not an active %s session. Check the value being passed and try again.", id, mode)
		}
		return nil
	}
	return sess
}

// end takes a session off the server and forgets the sanitizers it registered.
func (s *Server) end(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess.id)
	s.mu.Unlock()
	sess.mu.Lock()
	own := sess.own
	sess.mu.Unlock()
	s.reg.forget(own)
}

// recordStop sanitizes what the session recorded and saves it as test-proxy JSON (or YAML, when
// the file name says so), with the variables from the body; an unknown id is ignored, and with
// x-recording-skip: request-response nothing is sanitized or saved. A JSON recording is streamed
// (see saveStream) when its sanitizers can be applied a batch at a time.
func (s *Server) recordStop(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sess := s.sessions[r.Header.Get(hRecordingID)]
	s.mu.Unlock()
	if sess == nil || sess.mode != "record" {
		w.WriteHeader(http.StatusOK) // test-proxy: stopping an unknown recording does nothing
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
	sess.mu.Lock()
	sans := s.reg.resolve(sess.sanitizers)
	rec := sess.record
	sess.record, sess.stopped = entries{}, true
	sess.mu.Unlock()
	s.end(sess)
	defer rec.free()
	if strings.EqualFold(r.Header.Get(hSkip), "request-response") {
		w.WriteHeader(http.StatusOK)
		return
	}
	if sess.file != "" && !isYAML(sess.file) && batchable(sans) {
		n, herr := s.saveStream(sess.file, compilePlan(sans), &rec, vars)
		if herr != nil {
			herr.write(w)
			return
		}
		s.log.Info("test-proxy recording saved", "id", sess.id, "file", sess.file, "interactions", n)
		w.WriteHeader(http.StatusOK)
		return
	}
	its := make([]*cassette.Interaction, rec.Len())
	for i := range its {
		its[i] = rec.get(i)
	}
	rec.free()
	c := &cassette.Cassette{Version: cassette.Version, Interactions: sanitizeRecording(sans, its), Variables: vars}
	if sess.file == "" {
		s.mu.Lock()
		s.finished[sess.id] = c
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	if herr := s.save(sess.file, c); herr != nil {
		herr.write(w)
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
// x-recording-id) and answers with its variables. The recording is sanitized and indexed at the
// first request, with the sanitizers and matcher in force then, as test-proxy does.
func (s *Server) playbackStart(w http.ResponseWriter, r *http.Request) {
	b, err := readStart(r)
	if err != nil {
		knownError(w, http.StatusBadRequest, "Playback/Start: body is not JSON: %v", err)
		return
	}
	var c *cassette.Cassette
	vars := map[string]string{}
	sess := &session{id: newID(), mode: "playback", sanitizers: s.reg.serverList()}
	switch {
	case b.File != "":
		file, herr := s.recordingPath(b)
		if herr != nil {
			herr.write(w)
			return
		}
		w.Header().Set("X-Base64-Recording-File-Location", base64.StdEncoding.EncodeToString([]byte(file)))
		if isYAML(file) {
			c, err = cassette.Load(file)
			if c != nil {
				vars = c.Variables
				if c.Torn != nil {
					s.log.Warn("test-proxy: " + c.Torn.String())
				}
			}
		} else {
			c, vars, err = testproxyjson.Load(file)
		}
		if os.IsNotExist(err) {
			mismatch(w, "Recording file path "+file+" does not exist.")
			return
		}
		if err != nil {
			knownError(w, http.StatusBadRequest, "Playback/Start: %v", err)
			return
		}
		sess.file = file
	default:
		sess.source = r.Header.Get(hRecordingID)
		s.mu.Lock()
		c = s.finished[sess.source]
		s.mu.Unlock()
		if c == nil {
			knownError(w, http.StatusBadRequest, "There is no in-memory session with id %s available for playback retrieval.", sess.source)
			return
		}
		vars = c.Variables
	}
	if sess.file != "" {
		sess.loaded = c.Interactions // read from the file for this session alone
	} else {
		for _, it := range c.Interactions { // kept for more sessions: each sanitizes its own copy
			sess.loaded = append(sess.loaded, cloneInteraction(it))
		}
	}
	sess.vars = vars
	empty, _ := matcher.New(nil)
	sess.engine, err = engine.New(engine.Replay, engine.WithIndex(empty), engine.WithLogger(s.log), engine.WithMaxBodySize(s.cfg.maxBody),
		engine.WithMissResponse(s.missResponse(sess.id)), engine.WithHeaderCapture(captureHeaders),
		engine.WithReplayShape(s.applyTransforms(sess)))
	if err != nil {
		knownError(w, http.StatusInternalServerError, "Playback/Start: %v", err)
		return
	}
	s.mu.Lock()
	s.sessions[sess.id] = sess // registered only once it can answer
	s.mu.Unlock()
	if vars == nil {
		vars = map[string]string{}
	}
	s.log.Info("test-proxy playback started", "id", sess.id, "file", sess.file, "interactions", len(c.Interactions))
	w.Header().Set(hRecordingID, sess.id)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(vars)
}

func cloneInteraction(it *cassette.Interaction) *cassette.Interaction {
	c := *it
	c.Request.Headers = it.Request.Headers.Clone()
	c.Response.Headers = it.Response.Headers.Clone()
	return &c
}

// recordMatcher is the matcher in force for a session.
func (s *Server) recordMatcher(sess *session) matcher.RecordMatcher {
	sess.mu.Lock()
	m := sess.matcher
	sess.mu.Unlock()
	if m != nil {
		return *m
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.matcher
}

// prepare readies a playback session for a request: at the first one, the loaded recording is
// sanitized (its requests; each response when first served, see plan.Deferred) and indexed; every time, live requests get the session's sanitizers as they are now
// (bodies only when the matcher compares them).
func (s *Server) prepare(sess *session) error {
	m := s.recordMatcher(sess)
	sess.mu.Lock()
	p := s.reg.plan(sess.sanitizers)
	if !sess.prepared {
		sess.loaded = p.Playback(sess.loaded)
		idx, err := matcher.New(sess.loaded, matcher.WithRecordMatcher(m), matcher.WithRepeat(s.cfg.repeat))
		if err != nil {
			sess.mu.Unlock()
			return err
		}
		sess.engine.SetIndex(idx)
		sess.index, sess.prepared = idx, true
	}
	sess.mu.Unlock()
	sess.engine.SetRedactor(redact.Redactor{requestRule{plan: p, bodies: m.CompareBodies}})
	return nil
}

func (s *Server) playbackStop(w http.ResponseWriter, r *http.Request) {
	sess := s.activeSession(w, r.Header.Get(hRecordingID), "playback")
	if sess == nil {
		return
	}
	s.end(sess)
	if sess.source != "" && strings.EqualFold(r.Header.Get(hPurge), "true") {
		s.mu.Lock()
		delete(s.finished, sess.source)
		s.mu.Unlock()
	}
	sum := sess.engine.Summary()
	s.log.Info("test-proxy playback stopped", "id", sess.id, "replayed", sum.Replayed, "unused", sum.Unused, "misses", sum.Misses)
	w.WriteHeader(http.StatusOK)
}
