package forwardproxy

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestHandshakeWarnings(t *testing.T) {
	var buf bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&buf, nil))}
	s.handshakeFailed("h:443", errors.New("remote error: tls: unknown certificate authority"))
	if !strings.Contains(buf.String(), "does it trust azvcr's CA") {
		t.Errorf("untrusted CA not warned about: %q", buf.String())
	}
	buf.Reset()
	s.handshakeFailed("h:443", errors.New("read tcp: use of closed network connection"))
	s.closing.Store(true)
	s.handshakeFailed("h:443", errors.New("EOF"))
	if buf.Len() != 0 {
		t.Errorf("azvcr's own shutdown logged as a client problem: %q", buf.String())
	}
}
