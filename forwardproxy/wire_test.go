package forwardproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/azvcr/azvcr/engine"
)

// Plain HTTP through the proxy (absolute-form requests) keeps names and order both ways too.
func TestPlainHTTPKeepsNames(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	seen := make(chan []string, 1)
	go func() {
		c, err := up.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		seen <- headNames(t, br)
		io.WriteString(c, "HTTP/1.1 202 Taken\r\nx-ms-continuation: t1\r\nContent-Type: text/plain\r\nx-ms-substatus: 0\r\ncontent-length: 2\r\n\r\nok")
	}()
	s := startServer(t, engine.Passthrough)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET http://%s/x HTTP/1.1\r\nx-ms-version: 1\r\nhost: %s\r\nAccept: */*\r\nx-ms-Date: d\r\n\r\n", up.Addr(), up.Addr())
	br := bufio.NewReader(c)
	status, _ := br.ReadString('\n')
	if got, want := <-seen, []string{"x-ms-version", "host", "Accept", "x-ms-Date"}; !reflect.DeepEqual(got, want) {
		t.Errorf("upstream read names %q, want %q", got, want)
	}
	if got, want := headNames(t, br), []string{"x-ms-continuation", "Content-Type", "x-ms-substatus", "content-length"}; status != "HTTP/1.1 202 Taken\r\n" || !reflect.DeepEqual(got, want) {
		t.Errorf("client read %q %q, want 202 Taken %q", status, got, want)
	}
}

// headNames reads a head's header lines (after the start line, which the caller may have read).
func headNames(t *testing.T, br *bufio.Reader) []string {
	t.Helper()
	var names []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Errorf("reading a head: %v", err)
			return names
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return names
		}
		if k, _, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "HTTP/") && !strings.Contains(k, " ") {
			names = append(names, k)
		}
	}
}
