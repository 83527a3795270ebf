package engine

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// DefaultMaxBodySize bounds each request and response body the engine reads, decoded. Cosmos DB
// refuses documents over 2 MB and requests over 4 MB, and ARM bodies are smaller still; 64 MiB
// leaves room for any of their answers (query pages, long lists) and for other services behind
// the test-proxy, while a client sending gigabytes cannot exhaust memory.
const DefaultMaxBodySize = 64 << 20

// MaxBodySizeFlag names the setting in messages: the command's flag (the recorder's option is
// WithMaxBodySize).
const MaxBodySizeFlag = "--max-body-size"

// WithMaxBodySize bounds each body read, decoded; 0 or less means no bound. A larger request is
// answered 413 and a larger upstream answer 502, and neither is recorded. The default is
// DefaultMaxBodySize.
func WithMaxBodySize(n int64) Option {
	return func(e *Engine) error { e.maxBody = n; return nil }
}

// TooLargeError is a body over the limit.
type TooLargeError struct {
	What  string // "request body", "response body"
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the %s is larger than %s, azvcr's limit; raise it with %s (recorder.WithMaxBodySize in process)",
		e.What, FormatSize(e.Limit), MaxBodySizeFlag)
}

// copyBuffers are the buffers bodies are read through: io.Copy would allocate 32 KiB per body.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// readBody reads a body whole, as a string (one copy), up to limit bytes (0: no limit). A
// declared length over the limit fails before anything is read.
func readBody(r io.Reader, declared, limit int64, what string) (string, error) {
	if r == nil || r == http.NoBody {
		return "", nil
	}
	if limit > 0 && declared > limit {
		return "", &TooLargeError{What: what, Limit: limit}
	}
	var b strings.Builder
	if declared > 0 {
		b.Grow(int(declared))
	}
	src := r
	if limit > 0 {
		src = io.LimitReader(r, limit+1)
	}
	buf := copyBuffers.Get().(*[]byte)
	n, err := io.CopyBuffer(&b, src, *buf)
	copyBuffers.Put(buf)
	if err != nil {
		return "", err
	}
	if limit > 0 && n > limit {
		return "", &TooLargeError{What: what, Limit: limit}
	}
	return b.String(), nil
}

// tooLarge answers a request whose body is over the limit: 413, and the connection closed,
// since the rest of the body was never read.
func tooLarge(r *http.Request, err *TooLargeError) *http.Response {
	resp := ErrorResponse(r, http.StatusRequestEntityTooLarge, "azvcr: "+err.Error())
	resp.Close = true
	resp.Header.Set("Connection", "close")
	return resp
}

func asTooLarge(err error) (*TooLargeError, bool) {
	var tl *TooLargeError
	ok := errors.As(err, &tl)
	return tl, ok
}

// FormatSize spells a byte count as people write limits: 64 MiB, 1.5 GiB, 100 KiB, 12 bytes.
func FormatSize(n int64) string {
	units := []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}}
	for _, u := range units {
		if n >= u.size {
			if n%u.size == 0 {
				return fmt.Sprintf("%d %s", n/u.size, u.name)
			}
			return fmt.Sprintf("%.1f %s", float64(n)/float64(u.size), u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// ParseSize reads a size: a number of bytes, or one with a unit (KiB, MiB, GiB in powers of
// 1024; KB, MB, GB in powers of 1000; case and a space before the unit do not matter). 0 means
// no limit.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30,
		"kb": 1e3, "mb": 1e6, "gb": 1e9}[unit]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || v < 0 || v*mult > 1<<62 {
		return 0, fmt.Errorf("size %q: want bytes, or a number with KiB, MiB, GiB (or KB, MB, GB), such as 64MiB", s)
	}
	return int64(v * mult), nil
}
