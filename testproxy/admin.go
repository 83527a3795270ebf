package testproxy

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/azvcr/azvcr/matcher"
)

// httpError is one of test-proxy's known errors: a status and a message.
type httpError struct {
	code int
	msg  string
}

func errorf(code int, format string, args ...any) *httpError {
	return &httpError{code, fmt.Sprintf(format, args...)}
}

func (e *httpError) write(w http.ResponseWriter) { knownError(w, e.code, "%s", e.msg) }

// knownError answers in test-proxy's error shape: a JSON body and the message, base64, in
// x-request-known-exception-error (x-request-exception-error for a 5xx, which test-proxy treats
// as unexpected).
func knownError(w http.ResponseWriter, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.Header().Set("Content-Type", "application/json;")
	prefix := "X-Request-Known-Exception"
	if code >= 500 {
		prefix = "X-Request-Exception"
	}
	w.Header().Set(prefix, "true")
	w.Header().Set(prefix+"-Error", base64.StdEncoding.EncodeToString([]byte(msg)))
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"Message": msg, "Status": strings.ReplaceAll(http.StatusText(code), " ", "")})
}

// mismatch is test-proxy's 404 for a recording it cannot find or a request it cannot match: the
// message, up to its list of remaining entries, base64 in x-request-mismatch-error.
func mismatch(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json;")
	w.Header().Set(hMismatch, "true")
	short, _, _ := strings.Cut(msg, "Remaining Entries:")
	w.Header().Set(hMismatchText, base64.StdEncoding.EncodeToString([]byte(short)))
	w.WriteHeader(http.StatusNotFound)
	json.NewEncoder(w).Encode(map[string]string{"Message": msg, "Status": "NotFound"})
}

// sanitizerRequest is one entry of /Admin/AddSanitizers.
type sanitizerRequest struct {
	Name string          `json:"Name"`
	Body json.RawMessage `json:"Body"`
}

func (s *Server) addSanitizer(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, herr := s.register(r.Header.Get(hRecordingID), r.Header.Get(hAbstraction), body)
	if herr != nil {
		herr.write(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"Sanitizer": id})
}

func (s *Server) addSanitizers(w http.ResponseWriter, r *http.Request) {
	var list []sanitizerRequest
	if err := json.NewDecoder(r.Body).Decode(&list); err != nil {
		knownError(w, http.StatusBadRequest, "AddSanitizers: want a JSON array of {Name, Body}: %v", err)
		return
	}
	if len(list) == 0 {
		knownError(w, http.StatusBadRequest, "When bulk adding sanitizers, ensure that at least one sanitizer is added. Received 0.")
		return
	}
	// Every entry is checked before any is registered: a bad one adds none.
	for _, sr := range list {
		a, err := parseArgs(sr.Body)
		if err == nil {
			_, err = newSanitizer(sr.Name, a)
		}
		if err != nil {
			knownError(w, http.StatusBadRequest, "%v", err)
			return
		}
	}
	ids := []string{}
	for _, sr := range list {
		id, herr := s.register(r.Header.Get(hRecordingID), sr.Name, sr.Body)
		if herr != nil {
			herr.write(w)
			return
		}
		ids = append(ids, id)
	}
	if id := r.Header.Get(hRecordingID); id != "" {
		w.Header().Set(hRecordingID, id)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string][]string{"Sanitizers": ids})
}

// register adds a sanitizer server-wide (for sessions that start from now on), or to the session
// named by recordingID.
func (s *Server) register(recordingID, kind string, body []byte) (string, *httpError) {
	if kind == "" {
		return "", errorf(http.StatusBadRequest, "Expected header x-abstraction-identifier is not populated in request.")
	}
	a, err := parseArgs(body)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "%v", err)
	}
	var sess *session
	if recordingID != "" {
		s.mu.Lock()
		sess = s.sessions[recordingID]
		s.mu.Unlock()
		if sess == nil {
			return "", errorf(http.StatusBadRequest, "%s is not an active session for either record or playback. Check the value being passed and try again.", recordingID)
		}
	}
	reg, err := s.reg.add(kind, a)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "%v", err)
	}
	if sess == nil {
		s.reg.addServer(reg.id)
		return reg.id, nil
	}
	sess.mu.Lock()
	sess.sanitizers = append(sess.sanitizers, reg.id)
	sess.own = append(sess.own, reg.id)
	sess.mu.Unlock()
	return reg.id, nil
}

// removeSanitizers takes ids off the server-wide list, or off one session's; it answers with
// the ids it removed and ignores the others.
func (s *Server) removeSanitizers(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	data, _ := io.ReadAll(r.Body)
	var ids []string
	if err := json.Unmarshal(data, &body); err == nil {
		for k, v := range body {
			if strings.EqualFold(k, "Sanitizers") {
				json.Unmarshal(v, &ids)
			}
		}
	}
	if len(ids) == 0 {
		knownError(w, http.StatusBadRequest, "At least one sanitizerId for removal must be provided.")
		return
	}
	removed := []string{}
	if id := r.Header.Get(hRecordingID); id != "" {
		sess := s.activeSession(w, id, "")
		if sess == nil {
			return
		}
		sess.mu.Lock()
		for _, want := range ids {
			for i, have := range sess.sanitizers {
				if have == want {
					sess.sanitizers = append(sess.sanitizers[:i], sess.sanitizers[i+1:]...)
					removed = append(removed, want)
					break
				}
			}
		}
		sess.mu.Unlock()
	} else {
		for _, want := range ids {
			if s.reg.removeServer(want) {
				removed = append(removed, want)
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string][]string{"Removed": removed})
}

// getSanitizers lists the sanitizers in force, server-wide or for one session, in order.
func (s *Server) getSanitizers(w http.ResponseWriter, r *http.Request) {
	ids := s.reg.serverList()
	if id := r.Header.Get(hRecordingID); id != "" {
		sess := s.activeSession(w, id, "")
		if sess == nil {
			return
		}
		sess.mu.Lock()
		ids = append([]string(nil), sess.sanitizers...)
		sess.mu.Unlock()
	}
	list := []map[string]any{}
	for _, reg := range s.reg.resolve(ids) {
		list = append(list, reg.listing())
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"Sanitizers": list})
}

// newMatcher builds the matcher a harness named: test-proxy's RecordMatcher subclasses.
func newMatcher(kind string, a ctorArgs) (matcher.RecordMatcher, error) {
	m := matcher.DefaultRecordMatcher()
	switch kind {
	case "BodilessMatcher":
		m.CompareBodies = false
		m.ExcludedHeaders = append(m.ExcludedHeaders, "Content-Length")
	case "HeaderlessMatcher":
		m.IgnoreHeaders = true
	case "CustomDefaultMatcher":
		var err error
		if m.CompareBodies, err = a.boolean("compareBodies", true); err != nil {
			return m, err
		}
		if m.IgnoreQueryOrdering, err = a.boolean("ignoreQueryOrdering", false); err != nil {
			return m, err
		}
		for name, list := range map[string]*[]string{"excludedHeaders": &m.ExcludedHeaders, "ignoredHeaders": &m.IgnoredHeaders, "ignoredQueryParameters": &m.IgnoredQueryParameters} {
			v, _, err := a.get(name)
			if err != nil {
				return m, err
			}
			*list = append(*list, splitList(v)...)
		}
	default:
		return m, fmt.Errorf("Requested type Azure.Sdk.Tools.TestProxy.Matchers.%s is not recognized.", kind)
	}
	return m, nil
}

// setMatcher sets the matcher server-wide, or for one playback session. A session's recording
// already in use is indexed again under the new matcher, used entries staying used.
func (s *Server) setMatcher(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a, err := parseArgs(body)
	var m matcher.RecordMatcher
	if err == nil {
		m, err = newMatcher(r.Header.Get(hAbstraction), a)
	}
	if err != nil {
		knownError(w, http.StatusBadRequest, "%v", err)
		return
	}
	id := r.Header.Get(hRecordingID)
	if id == "" {
		s.mu.Lock()
		s.matcher = m
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	sess := s.activeSession(w, id, "playback")
	if sess == nil {
		return
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	sess.matcher = &m
	if sess.prepared {
		idx, err := matcher.New(sess.index.Remaining(), matcher.WithRecordMatcher(m), matcher.WithRepeat(s.cfg.repeat))
		if err != nil {
			knownError(w, http.StatusBadRequest, "SetMatcher: %v", err)
			return
		}
		sess.index = idx
		sess.engine.SetIndex(idx)
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

// reset puts test-proxy's defaults back: for one session, its sanitizers (the server-wide list
// as it is now), matcher and transforms; without an id, the server-wide ones, refused while any
// session (in-memory recordings included) is active.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	if id := r.Header.Get(hRecordingID); id != "" {
		sess := s.activeSession(w, id, "")
		if sess == nil {
			return
		}
		server := s.reg.serverList()
		sess.mu.Lock()
		sess.sanitizers, sess.matcher, sess.transforms = server, nil, nil
		sess.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	s.mu.Lock()
	var active []string
	for id := range s.sessions {
		active = append(active, id)
	}
	for id := range s.finished {
		active = append(active, id)
	}
	if len(active) > 0 {
		s.mu.Unlock()
		knownError(w, http.StatusBadRequest, "There are a total of %d active sessions. Remove these sessions before hitting Admin/Reset. Active sessions: [%s].", len(active), strings.Join(active, ", "))
		return
	}
	s.matcher, s.transforms = matcher.DefaultRecordMatcher(), defaultTransforms()
	s.mu.Unlock()
	s.reg.reset()
	w.WriteHeader(http.StatusOK)
}

// setRecordingOptions is accepted: azvcr forwards each request as it is and follows no redirect
// (test-proxy's HandleRedirects false, which Node harnesses ask for), and has no transport
// options to set.
func (s *Server) setRecordingOptions(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusOK)
}
