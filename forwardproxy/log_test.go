package forwardproxy

import (
	"bytes"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHandshakeWarnings(t *testing.T) {
	var buf bytes.Buffer
	var closing atomic.Bool
	g := goproxyLog{log: slog.New(slog.NewTextHandler(&buf, nil)), closing: &closing}
	g.Printf("[001] WARN: Cannot handshake client %v %v", "h:443", "remote error: tls: unknown certificate authority")
	if !strings.Contains(buf.String(), "does it trust azvcr's CA") {
		t.Errorf("untrusted CA not warned about: %q", buf.String())
	}
	buf.Reset()
	g.Printf("[002] WARN: Cannot handshake client h:443 read tcp: use of closed network connection")
	closing.Store(true)
	g.Printf("[003] WARN: Cannot handshake client h:443 EOF")
	if buf.Len() != 0 {
		t.Errorf("azvcr's own shutdown logged as a client problem: %q", buf.String())
	}
}
