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

// knownError answers in test-proxy's error shape: a JSON body and the message, base64, in
// x-request-known-exception-error.
func knownError(w http.ResponseWriter, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.Header().Set("Content-Type", "application/json;")
	w.Header().Set("X-Request-Known-Exception", "true")
	w.Header().Set("X-Request-Known-Exception-Error", base64.StdEncoding.EncodeToString([]byte(msg)))
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"Message": msg, "Status": strings.ReplaceAll(http.StatusText(code), " ", "")})
}

// sanitizerRequest is one entry of /Admin/AddSanitizers.
type sanitizerRequest struct {
	Name string          `json:"Name"`
	Body json.RawMessage `json:"Body"`
}

func (s *Server) addSanitizer(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, err := s.register(r.Header.Get(hRecordingID), r.Header.Get(hAbstraction), body)
	if err != nil {
		knownError(w, http.StatusBadRequest, "%v", err)
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
	var ids []string
	for _, sr := range list {
		id, err := s.register(r.Header.Get(hRecordingID), sr.Name, sr.Body)
		if err != nil {
			knownError(w, http.StatusBadRequest, "%v", err)
			return
		}
		ids = append(ids, id)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string][]string{"Sanitizers": ids})
}

// register adds a sanitizer server-wide, or to the session named by recordingID.
func (s *Server) register(recordingID, kind string, body []byte) (string, error) {
	rule, err := sanitizerRule(kind, body)
	if err != nil {
		return "", err
	}
	n := namedRule{id: newID(), rule: rule}
	s.mu.Lock()
	defer s.mu.Unlock()
	if recordingID == "" {
		s.sanitizer = append(s.sanitizer, n)
		s.refreshRedactors()
		return n.id, nil
	}
	sess := s.sessions[recordingID]
	if sess == nil {
		return "", fmt.Errorf("no active session under recording id %q", recordingID)
	}
	sess.mu.Lock()
	sess.rules = append(sess.rules, n)
	sess.mu.Unlock()
	s.refreshRedactor(sess)
	return n.id, nil
}

func (s *Server) removeSanitizers(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Sanitizers []string `json:"Sanitizers"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		knownError(w, http.StatusBadRequest, "RemoveSanitizers: want {\"Sanitizers\": [ids]}: %v", err)
		return
	}
	removed := []string{}
	s.mu.Lock()
	for _, id := range body.Sanitizers {
		if i := indexOfRule(s.sanitizer, id); i >= 0 {
			s.sanitizer = append(s.sanitizer[:i], s.sanitizer[i+1:]...)
			removed = append(removed, id)
			continue
		}
		for _, sess := range s.sessions {
			sess.mu.Lock()
			if i := indexOfRule(sess.rules, id); i >= 0 {
				sess.rules = append(sess.rules[:i], sess.rules[i+1:]...)
				removed = append(removed, id)
			}
			sess.mu.Unlock()
		}
	}
	s.refreshRedactors()
	s.mu.Unlock()
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
func (s *Server) setMatcher(w http.ResponseWriter, r *http.Request) {
	var ig matcher.Ignore
	switch kind := r.Header.Get(hAbstraction); kind {
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
			knownError(w, http.StatusBadRequest, "SetMatcher: %v", err)
			return
		}
		ig.Body = b.CompareBodies != nil && !*b.CompareBodies
		ig.HeaderNames = append(splitList(b.ExcludedHeaders), splitList(b.IgnoredHeaders)...)
		ig.QueryParams = splitList(b.IgnoredQueryParameters)
	default:
		knownError(w, http.StatusBadRequest, "SetMatcher: unknown matcher %q (azvcr knows CustomDefaultMatcher, BodilessMatcher, HeaderlessMatcher)", kind)
		return
	}
	id := r.Header.Get(hRecordingID)
	if id == "" {
		s.mu.Lock()
		s.ignore = ig
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	// For one session (harnesses set it right after /Playback/Start): its recording is indexed
	// again under the new settings, every entry unused.
	s.mu.Lock()
	sess := s.sessions[id]
	s.mu.Unlock()
	if sess == nil {
		knownError(w, http.StatusBadRequest, "SetMatcher: there is no active session under recording id %s.", id)
		return
	}
	if sess.mode == "playback" {
		idx, err := s.index(sess.played, ig)
		if err != nil {
			knownError(w, http.StatusBadRequest, "SetMatcher: %v", err)
			return
		}
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

type transform struct {
	id          string
	header, val string
	ifURI       string
}

func (s *Server) addTransform(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Key       string `json:"key"`
		Value     string `json:"value"`
		Condition *struct {
			URIRegex string `json:"uriRegex"`
		} `json:"condition"`
	}
	json.NewDecoder(r.Body).Decode(&b)
	t := transform{id: newID()}
	switch kind := r.Header.Get(hAbstraction); kind {
	case "HeaderTransform":
		t.header, t.val = b.Key, b.Value
		if b.Condition != nil {
			t.ifURI = b.Condition.URIRegex
		}
	case "ClientIdTransform", "ApiVersionTransform", "StorageRequestIdTransform":
		// azvcr already echoes x-ms-client-request-id on every replayed answer.
	default:
		knownError(w, http.StatusBadRequest, "AddTransform: unknown transform %q", kind)
		return
	}
	s.mu.Lock()
	s.transform = append(s.transform, t)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"Transform": t.id})
}

// reset drops sanitizers, matcher settings and transforms: server-wide ones, or a session's.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if id := r.Header.Get(hRecordingID); id != "" {
		if sess := s.sessions[id]; sess != nil {
			sess.mu.Lock()
			sess.rules = nil
			sess.mu.Unlock()
		}
	} else {
		s.sanitizer, s.ignore, s.transform = nil, matcher.Ignore{}, nil
	}
	s.refreshRedactors()
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// setRecordingOptions is accepted; azvcr has no redirect or transport options to set.
func (s *Server) setRecordingOptions(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusOK)
}
