package forwardproxy

import (
	"errors"
	"net"
	"strings"
	"sync"
)

// connTracker remembers every accepted connection so Close can end them all, intercepted
// (taken over) ones too.
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

// handshakeFailed logs a failed TLS handshake with a client: usually the client does not trust
// azvcr's CA, so that is a warning with a hint. Handshakes cut short by azvcr's own shutdown are
// not the client's fault and stay at debug level.
func (s *Server) handshakeFailed(host string, err error) {
	msg := err.Error()
	if s.closing.Load() || strings.Contains(msg, "use of closed network connection") || errors.Is(err, net.ErrClosed) {
		s.log.Debug("TLS handshake with a client cut short", "host", host, "err", msg)
		return
	}
	s.log.Warn("TLS handshake with a client failed; does it trust azvcr's CA? (azvcr ca path)", "host", host, "detail", msg)
}
