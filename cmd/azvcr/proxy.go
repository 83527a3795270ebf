package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/azvcr/azvcr/cassette"

	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/forwardproxy"
	"github.com/azvcr/azvcr/internal/hostport"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/redact"
)

func runProxy(mode engine.Mode, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(string(mode), stderr)
	cassettePath := fs.String("cassette", "", "cassette file")
	listen := fs.String("listen", defaultListen, "listen address")
	caDir := fs.String("ca-dir", "", "CA directory")
	var allow, upstreamCAs, resolve stringList
	fs.Var(&resolve, "resolve", "HOST=ADDR: connect to ADDR when forwarding to HOST")
	fs.Var(&allow, "allow-host", "extra allowed upstream host")
	fs.Var(&upstreamCAs, "upstream-ca", "extra upstream CA file")
	insecure := fs.Bool("upstream-insecure", false, "skip upstream certificate verification")
	failOnMiss := fs.Bool("fail-on-miss", false, "exit 3 on any miss")
	repeat := fs.String("repeat", "metadata", "which answers may repeat once used: metadata, none, all")
	verify := fs.Bool("verify-signatures", false, "check Cosmos master-key signatures in replay")
	configPath := fs.String("config", "", "config file (default "+redact.ConfigFile+" in the working directory, if present)")
	playbackKey := fs.String("playback-key", engine.EmulatorKey, "key for --verify-signatures")
	maxBody := sizeFlag(engine.DefaultMaxBodySize)
	fs.Var(&maxBody, "max-body-size", "largest request or response body (0: no limit)")
	overwrite := fs.Bool("overwrite", false, "record: replace a cassette that holds interactions")
	verbose := fs.Bool("verbose", false, "log every request")
	fs.BoolVar(verbose, "v", false, "log every request")
	if code, done := parseFlags(fs, string(mode), args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "azvcr %s: unexpected argument %q\n", mode, fs.Arg(0))
		return exitUsage
	}
	if mode != engine.Passthrough && *cassettePath == "" {
		fmt.Fprintf(stderr, "azvcr %s: --cassette FILE is required\n", mode)
		return exitUsage
	}
	repeatPolicy, err := matcher.ParseRepeat(*repeat)
	if err != nil {
		fmt.Fprintf(stderr, "azvcr %s: --repeat: %v\n", mode, err)
		return exitUsage
	}
	start := time.Now()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	dir, err := resolveCADir(*caDir)
	if err != nil {
		fmt.Fprintln(stderr, "azvcr:", err)
		return exitError
	}
	ca, created, err := certs.InitCA(dir, false)
	if err != nil {
		fmt.Fprintln(stderr, "azvcr:", err)
		return exitError
	}
	if created {
		fmt.Fprintf(stderr, "azvcr: created a CA in %s; clients must trust %s\n", dir, ca.CertPath)
	}
	redactor, err := loadRedactor(*configPath, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "azvcr %s: %v\n", mode, err)
		return exitError
	}
	opts := []forwardproxy.Option{forwardproxy.WithCA(ca), forwardproxy.WithLogger(logger), forwardproxy.WithAllowedHosts(allow...),
		forwardproxy.WithRepeat(repeatPolicy), forwardproxy.WithRedactor(redactor), forwardproxy.WithMaxBodySize(int64(maxBody))}
	if *overwrite {
		opts = append(opts, forwardproxy.WithOverwrite())
	}
	if *cassettePath != "" {
		opts = append(opts, forwardproxy.WithCassette(*cassettePath))
	}
	for _, f := range upstreamCAs {
		opts = append(opts, forwardproxy.WithUpstreamCA(f))
	}
	if *insecure {
		opts = append(opts, forwardproxy.WithUpstreamInsecure())
	}
	for _, r := range resolve {
		host, addr, _ := strings.Cut(r, "=")
		opts = append(opts, forwardproxy.WithResolve(host, addr))
	}
	if *verify {
		opts = append(opts, forwardproxy.WithSignatureCheck(*playbackKey))
	}
	srv, err := forwardproxy.New(mode, opts...)
	var replace *cassette.ReplaceError
	if errors.As(err, &replace) {
		fmt.Fprintf(stderr, "azvcr %s: %v; recording would replace it. Give --overwrite to replace it (it is kept until the first new interaction is written), use azvcr auto to add to it, or choose another --cassette\n", mode, err)
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "azvcr %s: %v\n", mode, err)
		return exitError
	}
	if err := srv.Listen(*listen); err != nil {
		srv.Close()
		fmt.Fprintf(stderr, "azvcr %s: %v\n", mode, err)
		return exitError
	}
	if host, _, _ := net.SplitHostPort(srv.Addr()); !hostport.IsLoopback(host) {
		fmt.Fprintf(stderr, "azvcr: WARNING: listening on %s, reachable from other machines\n", srv.Addr())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }()

	describe := string(mode)
	if *cassettePath != "" {
		describe += " " + *cassettePath
	}
	fmt.Fprintf(stderr, "azvcr: %s, listening on %s, ready in %s\n", describe, srv.Addr(), time.Since(start).Round(time.Microsecond))
	printClientEnv(stdout, srv)

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if err != nil {
			fmt.Fprintf(stderr, "azvcr %s: %v\n", mode, err)
			srv.Close()
			return exitError
		}
	}
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "azvcr %s: closing cassette: %v\n", mode, err)
		return exitError
	}
	sum := srv.Summary()
	fmt.Fprintf(stderr, "azvcr %s: %s\n", mode, sum)
	unused := srv.Unused()
	for i, it := range unused {
		if i == 10 {
			fmt.Fprintf(stderr, "  ... and %d more unused\n", len(unused)-10)
			break
		}
		fmt.Fprintf(stderr, "  unused #%d %s %s\n", it.ID, it.Method, it.URL)
	}
	if *failOnMiss && sum.Misses > 0 && mode == engine.Replay {
		return exitMisses
	}
	return exitOK
}

// loadRedactor builds the redaction rules from --config, else from .azvcr.yaml in the working
// directory when there is one, else the defaults.
func loadRedactor(path string, stderr io.Writer) (redact.Redactor, error) {
	if path == "" {
		if _, err := os.Stat(redact.ConfigFile); err != nil {
			return redact.DefaultRules(), nil
		}
		path = redact.ConfigFile
	}
	cfg, err := redact.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	r, err := cfg.Redact.Redactor()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(stderr, "azvcr: config %s: redaction rules %s\n", path, strings.Join(r.Names(), ", "))
	return r, nil
}

// printClientEnv writes what a client needs, one KEY=VALUE per line, so scripts can read it.
func printClientEnv(w io.Writer, srv *forwardproxy.Server) {
	ca := srv.CA().CertPath
	fmt.Fprintf(w, "HTTPS_PROXY=%s\n", srv.URL())
	fmt.Fprintf(w, "HTTP_PROXY=%s\n", srv.URL())
	fmt.Fprintf(w, "AZVCR_CA_CERT=%s\n", ca)
	fmt.Fprintf(w, "SSL_CERT_FILE=%s\n", ca)
	fmt.Fprintf(w, "NODE_EXTRA_CA_CERTS=%s\n", ca)
	fmt.Fprintf(w, "REQUESTS_CA_BUNDLE=%s\n", ca)
}
