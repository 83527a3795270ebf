package wire

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// valueReplacer keeps a value on its line, as net/http does when it writes headers.
var valueReplacer = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

// writeFields writes header lines and the empty line that ends the head.
func writeFields(w *bufio.Writer, fields []Field) {
	for _, f := range fields {
		w.WriteString(f.Name)
		w.WriteString(": ")
		w.WriteString(oneLine(f.Value))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
}

// oneLine is a header value as written: line breaks become spaces, and the ends are trimmed.
func oneLine(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = valueReplacer.Replace(v)
	}
	if v != "" && (mayBeSpace(v[0]) || mayBeSpace(v[len(v)-1])) {
		v = strings.TrimSpace(v)
	}
	return v
}

// mayBeSpace reports whether a value that starts or ends with c may start or end with a space:
// an ASCII one, or a byte of a Unicode one.
func mayBeSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c >= 0x80
}

// StatusLine is the status line of resp without the protocol: the code and the reason phrase as
// resp.Status has them, or net/http's phrase when Status does not start with the code.
func StatusLine(resp *http.Response) string {
	if wellFormedStatus(resp) {
		return resp.Status
	}
	code := strconv.Itoa(resp.StatusCode)
	reason, ok := strings.CutPrefix(resp.Status, code)
	if !ok || (reason != "" && reason[0] != ' ') {
		reason = " " + http.StatusText(resp.StatusCode)
	}
	if strings.ContainsAny(reason, "\r\n") { // Replace makes a copy even when nothing changes
		reason = valueReplacer.Replace(reason)
	}
	return code + " " + strings.TrimSpace(reason)
}

// wellFormedStatus: resp.Status is already "<code> <reason>" as StatusLine would make it, the
// usual case, which then needs no new string.
func wellFormedStatus(resp *http.Response) bool {
	var buf [20]byte
	code := strconv.AppendInt(buf[:0], int64(resp.StatusCode), 10)
	s := resp.Status
	if len(s) < len(code)+2 || s[:len(code)] != string(code) || s[len(code)] != ' ' {
		return false
	}
	reason := s[len(code)+1:]
	return reason == strings.TrimSpace(reason) && !strings.ContainsAny(reason, "\r\n")
}

// bodyless reports whether a response to req with this code carries no body.
func bodyless(req *http.Request, code int) bool {
	return (req != nil && req.Method == http.MethodHead) || code == http.StatusNoContent ||
		code == http.StatusNotModified || (code >= 100 && code < 200)
}

// WriteResponse writes resp, the answer to req, as HTTP/1.1 with its header lines in the order and
// spelling names give (see Fields) and its reason phrase as resp.Status has it. A body of known
// length (resp.ContentLength >= 0) is sent with the Content-Length header resp has, or one added
// at the end; one of unknown length is chunked. close adds Connection: close. The body is read
// and closed.
func WriteResponse(w *bufio.Writer, req *http.Request, resp *http.Response, names []string, close bool) error {
	return writeResponse(w, req, resp, names, close, nil)
}

// writeResponse is WriteResponse, with the head written out already when head fits resp.
func writeResponse(w *bufio.Writer, req *http.Request, resp *http.Response, names []string, close bool, head *Head) error {
	if resp.Body != nil {
		defer resp.Body.Close()
	}
	noBody := bodyless(req, resp.StatusCode)
	chunked := !noBody && resp.ContentLength < 0
	h := resp.Header // read only: copied below when the head differs from it
	switch {
	case head.fits(resp, names, close):
		w.Write(head.text)
		return writeRest(w, resp, noBody, chunked)
	case needsEdit(h, noBody, chunked, resp.ContentLength, close):
		h = h.Clone()
		if h == nil {
			h = http.Header{}
		}
		for _, k := range []string{"Transfer-Encoding", "Connection"} {
			h.Del(k)
		}
		switch {
		case noBody:
		case !chunked:
			if h.Get("Content-Length") == "" || h.Get("Content-Length") != strconv.FormatInt(resp.ContentLength, 10) {
				h.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
			}
		default:
			h.Del("Content-Length")
			h.Set("Transfer-Encoding", "chunked")
		}
		if close {
			h.Set("Connection", "close")
		}
	}
	writeHead(w, resp, h, names)
	return writeRest(w, resp, noBody, chunked)
}

// writeHead writes the status line of resp and the header lines of h with names.
func writeHead(w *bufio.Writer, resp *http.Response, h http.Header, names []string) {
	w.WriteString("HTTP/1.1 ")
	w.WriteString(StatusLine(resp))
	w.WriteString("\r\n")
	writeFields(w, Fields(h, names))
}

// writeRest writes the body after the head, and sends what is buffered.
func writeRest(w *bufio.Writer, resp *http.Response, noBody, chunked bool) error {
	if !noBody && resp.Body != nil {
		if err := writeBody(w, resp.Body, chunked); err != nil {
			return err
		}
	}
	return w.Flush()
}

// needsEdit reports whether the head WriteResponse writes differs from h: a replayed answer
// usually has the right Content-Length and no connection headers, and is written without a copy.
func needsEdit(h http.Header, noBody, chunked bool, length int64, close bool) bool {
	if close || chunked {
		return true
	}
	for _, k := range []string{"Transfer-Encoding", "Connection"} {
		if _, ok := h[k]; ok { // present even with no value: Del drops it
			return true
		}
	}
	if noBody {
		return false
	}
	var buf [20]byte
	cl := h.Get("Content-Length")
	return cl == "" || cl != string(strconv.AppendInt(buf[:0], length, 10))
}

// WriteRequest writes req as HTTP/1.1 to its URL's request target, the Host line and the other
// header lines in the order and spelling names give (see Fields), and body after them, with a
// Content-Length when the body is not empty or req's header has one. Nothing is added: no
// User-Agent, no Accept-Encoding.
func WriteRequest(w *bufio.Writer, req *http.Request, names []string, body []byte) error {
	h := req.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	for _, k := range []string{"Transfer-Encoding", "Host"} {
		h.Del(k)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if len(body) > 0 || h.Get("Content-Length") != "" {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	// Host goes where the client put it, or first, as Go and most clients send it.
	var fields []Field
	if slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, "Host") }) {
		h.Set("Host", host)
		fields = Fields(h, names)
	} else {
		fields = append([]Field{{"Host", host}}, Fields(h, names)...)
	}
	target := req.URL.RequestURI()
	if req.Method == http.MethodConnect {
		target = host
	}
	fmt.Fprintf(w, "%s %s HTTP/1.1\r\n", req.Method, target)
	writeFields(w, fields)
	w.Write(body)
	return w.Flush()
}

func writeBody(w *bufio.Writer, body io.Reader, chunked bool) error {
	if !chunked {
		_, err := io.Copy(w, body)
		return err
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			fmt.Fprintf(w, "%x\r\n", n)
			w.Write(buf[:n])
			w.WriteString("\r\n")
		}
		if err == io.EOF {
			_, err = w.WriteString("0\r\n\r\n")
			return err
		}
		if err != nil {
			return err
		}
	}
}
