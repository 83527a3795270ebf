package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/elazarl/goproxy"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/matcher"
)

// MissStatus is the status of a replayed request that has no recording. It is outside the codes
// Azure services use, so a test never mistakes a miss for a real 404 and no SDK retries it.
const MissStatus = 490

// MissHeader carries the one-line explanation of a miss.
const MissHeader = "X-Azvcr-Miss"

// ErrorHeader marks answers that azvcr made itself (upstream unreachable, host not allowed).
const ErrorHeader = "X-Azvcr-Error"

// handle answers every proxied request: replay, record, or both. goproxy never forwards on its
// own; returning a response here keeps errors as HTTP answers instead of dropped connections.
func (s *Server) handle(r *http.Request, _ *goproxy.ProxyCtx) (*http.Request, *http.Response) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return r, errorResponse(r, http.StatusBadRequest, "reading the request body: "+err.Error())
	}
	live := requestFromHTTP(r, body)

	if s.sigs != nil {
		if deny := s.sigs.check(r); deny != nil {
			s.log.Warn("signature does not match the playback key", "method", r.Method, "url", live.URL)
			return r, deny
		}
	}
	if s.mode.replays() {
		probe := cloneRequest(live)
		s.redactor.Request(&probe)
		it, miss := s.index.Next(&probe)
		if it != nil {
			s.log.Debug("replayed", "method", r.Method, "url", live.URL, "id", it.ID)
			return r, shapeReplayed(r, responseFromCassette(r, &it.Response))
		}
		if s.mode == Replay {
			s.log.Warn("no recording", "miss", miss.String())
			return r, missResponse(r, miss)
		}
	}
	return r, s.forward(r, live, body)
}

// forward sends the request upstream, records it when the mode records, and returns the real
// response to the client.
func (s *Server) forward(r *http.Request, live cassette.Request, body []byte) *http.Response {
	resp, rec := s.roundTrip(r, live, body)
	if rec != nil && s.mode.records() {
		s.record(live, *rec)
	}
	return resp
}

// roundTrip sends r upstream. It returns the response for the client, and the response as
// recorded (body decoded), or nil when azvcr answered itself (not allowed, unreachable).
func (s *Server) roundTrip(r *http.Request, live cassette.Request, body []byte) (*http.Response, *cassette.Response) {
	if !s.allow.allows(r.URL.Host) {
		return errorResponse(r, http.StatusForbidden, notAllowedMessage(r.URL.Host)), nil
	}
	if s.isSelf(r.URL.Host) {
		return errorResponse(r, http.StatusLoopDetected, "azvcr: refusing to forward a request to itself"), nil
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), bytes.NewReader(body))
	if err != nil {
		return errorResponse(r, http.StatusBadRequest, err.Error()), nil
	}
	out.Header = cleanHeader(r.Header)
	out.Host = r.Host
	out.ContentLength = int64(len(body))
	if len(body) == 0 {
		out.Body = http.NoBody
	}
	start := time.Now()
	resp, err := s.upstream.RoundTrip(out)
	if err != nil {
		s.log.Warn("upstream failed", "method", r.Method, "url", live.URL, "err", err)
		return errorResponse(r, http.StatusBadGateway, fmt.Sprintf("azvcr: upstream %s failed: %v", r.URL.Host, err)), nil
	}
	rec, err := readResponse(resp, time.Since(start))
	if err != nil {
		s.log.Warn("upstream response unreadable", "url", live.URL, "err", err)
		return errorResponse(r, http.StatusBadGateway, fmt.Sprintf("azvcr: reading the response from %s: %v", r.URL.Host, err)), nil
	}
	s.forwarded.Add(1)
	return responseFromCassette(r, &rec), &rec // built before redaction: the client gets real values
}

func (s *Server) record(live cassette.Request, rec cassette.Response) {
	it := &cassette.Interaction{Request: cloneRequest(live), Response: cloneResponse(rec)}
	s.redactor.Interaction(it)
	if err := s.journal.Add(it); err != nil {
		s.log.Error("could not write interaction", "url", live.URL, "err", err)
		return
	}
	if s.index != nil {
		if err := s.index.AddUsed(it); err != nil {
			s.log.Warn("recorded interaction not indexed", "id", it.ID, "err", err)
		}
	}
	s.log.Debug("recorded", "method", live.Method, "url", live.URL, "id", it.ID, "status", rec.Code)
}

// missBody is the JSON a miss answers with. code and message follow the Cosmos DB error shape so
// SDK error messages show them.
type missBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	*matcher.Miss
}

func missResponse(r *http.Request, m *matcher.Miss) *http.Response {
	data, _ := json.MarshalIndent(missBody{Code: "AzvcrNoRecording", Message: "azvcr: " + m.String(), Miss: m}, "", "  ")
	resp := bodyResponse(r, MissStatus, "application/json", data)
	resp.Status = fmt.Sprintf("%d No Recording", MissStatus)
	resp.Header.Set(MissHeader, headerSafe(m.String()))
	resp.Header.Set("X-Ms-Error-Code", "AzvcrNoRecording")
	return resp
}

func errorResponse(r *http.Request, code int, msg string) *http.Response {
	resp := textResponse(r, code, msg)
	resp.Header.Set(ErrorHeader, headerSafe(msg))
	return resp
}

func textResponse(r *http.Request, code int, msg string) *http.Response {
	return bodyResponse(r, code, "text/plain; charset=utf-8", []byte(msg))
}

func bodyResponse(r *http.Request, code int, contentType string, body []byte) *http.Response {
	return &http.Response{
		StatusCode:    code,
		Status:        fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {contentType}, "Content-Length": {fmt.Sprint(len(body))}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}
}

// headerSafe keeps a message on one header line.
func headerSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = ' '
		}
	}
	if len(b) > 2000 {
		b = append(b[:1997], "..."...)
	}
	return string(b)
}

// serveDirect answers requests addressed to azvcr itself rather than proxied through it.
func (s *Server) serveDirect(w http.ResponseWriter, r *http.Request) {
	if s.tp.serve(w, r) {
		return
	}
	if r.URL.Path == "/azvcr/status" {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.Summary())
		return
	}
	http.Error(w, fmt.Sprintf("azvcr is a proxy: send requests through it (HTTPS_PROXY=%s) and trust its CA (%s); GET /azvcr/status reports counts",
		s.URL(), s.ca.CertPath), http.StatusBadRequest)
}

func (s *Server) isSelf(hostport string) bool {
	for _, a := range s.Addrs() {
		if sameAddr(hostport, a) {
			return true
		}
	}
	return false
}

func sameAddr(hostport, self string) bool {
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	sh, sp, _ := net.SplitHostPort(self)
	if p != sp {
		return false
	}
	if h == sh {
		return true
	}
	ip, sip := parseIP(h), parseIP(sh)
	if h == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return ip != nil && sip != nil && (ip.Equal(sip) || (sip.IsUnspecified() && ip.IsLoopback()))
}

// refuseDial backs goproxy's own transport, which azvcr never uses: if anything ever tried, it
// would fail loudly rather than connect.
func refuseDial(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("azvcr: goproxy transport is not used")
}
