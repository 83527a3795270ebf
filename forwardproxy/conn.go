package forwardproxy

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
)

// connTracker remembers every accepted connection so Close can end intercepted ones, which
// http.Server stops tracking once goproxy hijacks them.
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
}

func (t *connTracker) add(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return false
	}
	if t.conns == nil {
		t.conns = map[net.Conn]struct{}{}
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *connTracker) remove(c net.Conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

func (t *connTracker) closeAll() {
	t.mu.Lock()
	t.done = true
	conns := t.conns
	t.conns = nil
	t.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

type trackingListener struct {
	net.Listener
	tracker *connTracker
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, tracker: l.tracker}
	if !l.tracker.add(tc) {
		c.Close()
	}
	return tc, nil
}

type trackedConn struct {
	net.Conn
	tracker *connTracker
	once    sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.tracker.remove(c) })
	return c.Conn.Close()
}

// goproxyLog routes goproxy's printf logging into slog; a failed client handshake usually means
// the client does not trust azvcr's CA, so that one is a warning with a hint.
// Handshakes cut short by azvcr's own shutdown are not the client's fault and stay at debug level.
type goproxyLog struct {
	log     *slog.Logger
	closing *atomic.Bool
}

func (g goproxyLog) Printf(format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	ownClose := g.closing.Load() || strings.Contains(msg, "use of closed network connection")
	if strings.Contains(msg, "Cannot handshake client") && !ownClose {
		g.log.Warn("TLS handshake with a client failed; does it trust azvcr's CA? (azvcr ca path)", "detail", msg)
		return
	}
	g.log.Debug(msg)
}
