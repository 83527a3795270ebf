package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/azvcr/azvcr/fixtures/testcerts"
)

// The floor is a bare Go HTTPS server answering each corpus request with the bytes azvcr has
// recorded for it: what any TLS server on this machine costs, the baseline of every proxy
// measure. It runs as its own process (`benchrun floor`) so it can be pinned with the proxies.

type answer struct {
	code   int
	header http.Header
	body   []byte
}

func answerFor(i int) *answer {
	resp := live(i).Response
	return &answer{code: resp.Code, header: resp.Headers, body: []byte(resp.Body)}
}

// floor caches the answers to the first interactions, which the throughput measures repeat; the
// rest are built per request, as a record run asks for each once.
type floor struct{ cache [1024]atomic.Pointer[answer] }

func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	i, ok := indexOf(r.Method, r.URL.Path, body)
	if !ok {
		http.Error(w, "not a corpus request", http.StatusBadRequest)
		return
	}
	var a *answer
	if i < len(f.cache) {
		if a = f.cache[i].Load(); a == nil {
			a = answerFor(i)
			f.cache[i].Store(a)
		}
	} else {
		a = answerFor(i)
	}
	h := w.Header()
	for k, v := range a.header {
		h[k] = v
	}
	w.WriteHeader(a.code)
	w.Write(a.body)
}

func runFloor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	cert := fs.String("cert", "", "leaf certificate (PEM)")
	key := fs.String("key", "", "leaf key (PEM)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		return err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: []string{"http/1.1"}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		return err
	}
	fmt.Printf("LISTEN %s\n", ln.Addr())
	srv := &http.Server{Handler: &floor{}, ErrorLog: nil}
	return srv.Serve(ln)
}

// pki is the floor's own CA and its leaf, for the corpus hosts and loopback, as files.
type pki struct{ caFile, certFile, keyFile string }

func makePKI(dir string) (pki, error) {
	p := pki{filepath.Join(dir, "floor-ca.pem"), filepath.Join(dir, "floor.pem"), filepath.Join(dir, "floor-key.pem")}
	pair, err := testcerts.New("benchrun floor CA", cosmosHost, armHost, "localhost", "127.0.0.1")
	if err != nil {
		return p, err
	}
	for file, data := range map[string][]byte{p.caFile: pair.CAPEM, p.certFile: pair.LeafPEM, p.keyFile: pair.KeyPEM} {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			return p, err
		}
	}
	return p, nil
}

// rootsFrom is a pool holding the PEM certificates in file.
func rootsFrom(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s: no certificate", file)
	}
	return pool, nil
}
