package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/azvcr/azvcr/matcher"
)

// MissStatus is the status of a replayed request that has no recording. It is outside the codes
// Azure services use, so a test never mistakes a miss for a real 404 and no SDK retries it.
const MissStatus = 490

// MissHeader carries the one-line explanation of a miss.
const MissHeader = "X-Azvcr-Miss"

// ErrorHeader marks answers that azvcr made itself (upstream unreachable, host not allowed).
const ErrorHeader = "X-Azvcr-Error"

// MissBody is the JSON a miss answers with. Code and Message follow the Cosmos DB error shape so
// SDK error messages show them.
type MissBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	*matcher.Miss
}

// MissResponse is azvcr's answer to a request with no recording: status 490, the explanation in
// X-Azvcr-Miss, and a JSON body naming the closest recording and what differed.
func MissResponse(r *http.Request, m *matcher.Miss) *http.Response {
	data, _ := json.MarshalIndent(MissBody{Code: "AzvcrNoRecording", Message: "azvcr: " + m.String(), Miss: m}, "", "  ")
	resp := BodyResponse(r, MissStatus, "application/json", data)
	resp.Status = fmt.Sprintf("%d No Recording", MissStatus)
	resp.Header.Set(MissHeader, HeaderSafe(m.String()))
	resp.Header.Set("X-Ms-Error-Code", "AzvcrNoRecording")
	return resp
}

// ErrorResponse is an answer azvcr makes itself, marked with ErrorHeader.
func ErrorResponse(r *http.Request, code int, msg string) *http.Response {
	resp := BodyResponse(r, code, "text/plain; charset=utf-8", []byte(msg))
	resp.Header.Set(ErrorHeader, HeaderSafe(msg))
	return resp
}

// BodyResponse is a complete HTTP/1.1 response with the given body.
func BodyResponse(r *http.Request, code int, contentType string, body []byte) *http.Response {
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

// HeaderSafe keeps a message on one header line of bounded length.
func HeaderSafe(s string) string {
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
