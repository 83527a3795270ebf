package forwardproxy

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/engine"
)

// A body over the limit, sent through the proxy (intercepted TLS or plain HTTP), is answered
// 413 naming the flag, the rest left unread; the client reads that answer rather than a reset
// connection, and the proxy answers the next request.
func TestBodyOverTheLimitThroughTheProxy(t *testing.T) {
	path, base := writeCassette(t, 1)
	s := startServer(t, engine.Replay, WithCassette(path), WithMaxBodySize(64<<10))
	c := proxiedClient(t, s)
	for _, u := range []string{base + "/items/0", strings.Replace(base, "https://", "http://", 1) + "/items/0"} {
		for _, size := range []int{1 << 20, 16 << 20} {
			resp, err := c.Post(u, "application/json", strings.NewReader(strings.Repeat("x", size)))
			if err != nil {
				t.Fatalf("POST %s, %d bytes: %v", u, size, err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(msg), "--max-body-size") {
				t.Errorf("POST %s, %d bytes: %d %.200q", u, size, resp.StatusCode, msg)
			}
		}
	}
	resp, err := c.Get(base + "/items/0")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the next request: %v %v", resp, err)
	}
	resp.Body.Close()
}
