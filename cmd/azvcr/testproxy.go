package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/azvcr/azvcr/internal/hostport"

	"github.com/azvcr/azvcr/assets"
	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/forwardproxy"
	"github.com/azvcr/azvcr/testproxy"
)

// defaultTestProxyURLs are where Microsoft's test-proxy listens unless told otherwise.
const defaultTestProxyURLs = "http://localhost:5000;https://localhost:5001"

// runStart answers `start --storage-location DIR -- --urls=URL;URL`, the invocation SDK test
// harnesses make of the test-proxy binary. Flags of the real proxy that azvcr has no use for are
// accepted and named on stderr.
func runStart(args []string, stdout, stderr io.Writer) int {
	storage, urls := "", os.Getenv("ASPNETCORE_URLS")
	verbose := false
	maxBody := int64(engine.DefaultMaxBodySize)
	var proxyOpts []forwardproxy.Option
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		next := func() string {
			if hasVal {
				return val
			}
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch name {
		case "--storage-location", "-l":
			storage = next()
		case "--urls":
			urls = next()
		case "--":
		case "-v", "--verbose":
			verbose = true
		case "--resolve": // azvcr's own: HOST=ADDR, where record sessions reach HOST
			host, addr, ok := strings.Cut(next(), "=")
			if !ok || host == "" || addr == "" {
				fmt.Fprintln(stderr, "azvcr start: --resolve wants HOST=ADDR")
				return exitUsage
			}
			proxyOpts = append(proxyOpts, forwardproxy.WithResolve(host, addr))
		case "--upstream-ca": // azvcr's own: a PEM file of extra roots for upstream TLS
			proxyOpts = append(proxyOpts, forwardproxy.WithUpstreamCA(next()))
		case "--max-body-size": // azvcr's own: the largest body a session reads
			n, err := engine.ParseSize(next())
			if err != nil {
				fmt.Fprintf(stderr, "azvcr start: --max-body-size: %v\n", err)
				return exitUsage
			}
			maxBody = n
		default:
			fmt.Fprintf(stderr, "azvcr start: ignoring test-proxy option %s\n", a)
		}
	}
	if urls == "" {
		urls = defaultTestProxyURLs
	}
	if storage == "" {
		storage, _ = os.Getwd()
	}
	storage, _ = filepath.Abs(storage)
	dir, err := resolveCADir("")
	if err != nil {
		fmt.Fprintln(stderr, "azvcr:", err)
		return exitError
	}
	ca, _, err := certs.InitCA(dir, false)
	if err != nil {
		fmt.Fprintln(stderr, "azvcr:", err)
		return exitError
	}
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	redactor, err := loadRedactor("", stderr)
	if err != nil {
		fmt.Fprintln(stderr, "azvcr start:", err)
		return exitError
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var binds []listenURL
	for _, raw := range strings.Split(urls, ";") {
		if raw = strings.TrimSpace(raw); raw == "" {
			continue
		}
		b, err := parseListenURL(raw)
		if err != nil {
			fmt.Fprintf(stderr, "azvcr start: --urls: %v\n", err)
			return exitUsage
		}
		binds = append(binds, b)
	}
	tpOpts := []testproxy.Option{testproxy.WithStorage(storage), testproxy.WithLogger(logger), testproxy.WithMaxBodySize(maxBody)}
	if loopbackOnly(binds) {
		tpOpts = append(tpOpts, testproxy.WithLoopbackHostsOnly())
	}
	// One listener set serves both ways in: requests addressed to azvcr go to the test-proxy
	// protocol, requests proxied through it (HTTPS_PROXY) pass through the allow-list.
	tp := &lateHandler{}
	srv, err := forwardproxy.New(engine.Passthrough, append([]forwardproxy.Option{forwardproxy.WithCA(ca), forwardproxy.WithRedactor(redactor),
		forwardproxy.WithLogger(logger), forwardproxy.WithDirectHandler(tp), forwardproxy.WithMaxBodySize(maxBody)}, proxyOpts...)...)
	if err != nil {
		fmt.Fprintln(stderr, "azvcr start:", err)
		return exitError
	}
	store := &assets.Store{}
	tp.h = testproxy.New(append(tpOpts, testproxy.WithRestore(store.Restore), testproxy.WithUpstream(srv.Upstream()))...)
	for _, b := range binds {
		if b.scheme == "https" {
			err = srv.ListenTLS(b.addr)
		} else {
			err = srv.Listen(b.addr)
		}
		if err != nil {
			fmt.Fprintf(stderr, "azvcr start: %v\n", err)
			srv.Close()
			return exitError
		}
		// With port 0 the system picks one; the line names the port taken, as Kestrel's does.
		addrs := srv.Addrs()
		_, port, _ := net.SplitHostPort(addrs[len(addrs)-1])
		if !b.loopback {
			fmt.Fprintf(stderr, "azvcr: WARNING: listening on %s, reachable from other machines\n", addrs[len(addrs)-1])
		}
		fmt.Fprintf(stdout, "Now listening on: %s://%s\n", b.scheme, net.JoinHostPort(b.shown, port))
	}
	fmt.Fprintf(stderr, "azvcr: test-proxy protocol, recordings under %s\n", storage)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }()
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if err != nil {
			fmt.Fprintln(stderr, "azvcr start:", err)
			srv.Close()
			return exitError
		}
	}
	srv.Close()
	return exitOK
}

// lateHandler is the test-proxy handler, set once the forward proxy it forwards through exists.
type lateHandler struct{ h http.Handler }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.h.ServeHTTP(w, r) }

// listenURL is one of --urls: where to listen, and how Kestrel would print it.
type listenURL struct {
	scheme   string // http or https
	addr     string // host:port to bind; ":port" for every interface
	shown    string // the host on the "Now listening on" line
	loopback bool
}

// parseListenURL reads a URL as ASP.NET Core does for --urls: http or https, a host and a port.
// localhost stays on loopback (127.0.0.1); *, + and an empty host (and 0.0.0.0 or [::]) mean
// every interface.
func parseListenURL(raw string) (listenURL, error) {
	bad := fmt.Errorf("want http://host:port or https://host:port (host: a name, an address, * or +), got %q", raw)
	scheme, rest, ok := strings.Cut(raw, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "http" && scheme != "https") {
		return listenURL{}, bad
	}
	rest, _, _ = strings.Cut(rest, "/")
	host, port, err := net.SplitHostPort(rest)
	if err != nil || port == "" {
		return listenURL{}, bad
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil { // port 0 picks one
		return listenURL{}, bad
	}
	b := listenURL{scheme: scheme, shown: host}
	switch ip := hostport.ParseIP(host); {
	case host == "*" || host == "+" || host == "":
		b.addr, b.shown = net.JoinHostPort("", port), "::"
	case strings.EqualFold(host, "localhost"):
		b.addr, b.loopback = net.JoinHostPort("127.0.0.1", port), true
	case ip != nil:
		b.addr, b.loopback = net.JoinHostPort(ip.String(), port), ip.IsLoopback()
	default:
		b.addr, b.loopback = net.JoinHostPort(host, port), false // a name: whatever it resolves to
	}
	return b, nil
}

func loopbackOnly(binds []listenURL) bool {
	for _, b := range binds {
		if !b.loopback {
			return false
		}
	}
	return len(binds) > 0
}

// runRestore answers `restore -a assets.json`: the recordings the assets.json names are fetched
// with git into <repo root>/.assets, as test-proxy's restore does (the assets repository is
// <base>/<AssetsRepo>, base https://github.com unless $AZVCR_ASSETS_BASE_URL says otherwise).
func runRestore(args []string, stdout, stderr io.Writer) int {
	file := ""
	for i := 0; i < len(args); i++ {
		if args[i] == "-a" || args[i] == "--assets-json-path" {
			if i+1 < len(args) {
				file = args[i+1]
				i++
			}
		} else if v, ok := strings.CutPrefix(args[i], "--assets-json-path="); ok {
			file = v
		}
	}
	if file == "" {
		fmt.Fprintln(stderr, "azvcr restore: want -a assets.json")
		return exitUsage
	}
	dir, err := (&assets.Store{}).Restore(file)
	if err != nil {
		fmt.Fprintf(stderr, "azvcr restore: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "azvcr: restored %s into %s\n", file, dir)
	return exitOK
}
