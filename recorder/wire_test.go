package recorder

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// With the default transport the cassette keeps the names as the service spelled them and as the
// client set them, and the client's lookups find them; replay gives them back the same.
func TestRecordKeepsWireNames(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					body := `{"ok":true}`
					fmt.Fprintf(c, "HTTP/1.1 200 Ok Then\r\nx-ms-continuation: tok-2\r\nContent-Type: application/json\r\netag: \"1\"\r\ncontent-length: %d\r\n\r\n%s", len(body), body)
				}
			}()
		}
	}()
	path := filepath.Join(t.TempDir(), "wire.yaml")
	url := "http://" + ln.Addr().String() + "/dbs/db1/docs"
	run := func(t *testing.T, mode Mode) {
		rec := Start(t, WithMode(mode), WithCassette(path))
		req, _ := http.NewRequest("GET", url, nil)
		req.Header["x-ms-version"] = []string{"2018-12-31"} // as some clients set it: not canonical
		req.Header.Set("Accept", "application/json")
		resp, err := rec.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("X-Ms-Continuation") != "tok-2" || resp.Status != "200 Ok Then" {
			t.Errorf("%s: client got %q, continuation %q", mode, resp.Status, resp.Header.Get("X-Ms-Continuation"))
		}
		rec.Stop()
	}
	run(t, ModeRecord)
	c, err := cassette.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	it := c.Interactions[0]
	if want := []string{"x-ms-continuation", "Content-Type", "etag", "content-length"}; !reflect.DeepEqual(it.Response.HeaderNames, want) {
		t.Errorf("response names %q, want %q", it.Response.HeaderNames, want)
	}
	if want := []string{"Accept", "x-ms-version"}; !reflect.DeepEqual(it.Request.HeaderNames, want) {
		t.Errorf("request names %q, want %q", it.Request.HeaderNames, want)
	}
	if !strings.HasPrefix(it.Response.Status, "200 Ok Then") {
		t.Errorf("status %q", it.Response.Status)
	}
	ln.Close()
	run(t, ModeReplay)
}
