// Command azvcr records Azure Cosmos DB and Resource Manager traffic to YAML cassettes and replays
// it offline. This file holds flags, signals and exit codes only; the work is in the
// packages below it (see docs/architecture.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/azvcr/azvcr/certs"
	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/forwardproxy"
	"github.com/azvcr/azvcr/matcher"

	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/secrets"
)

// Exit codes, documented in usage and the README.
const (
	exitOK     = 0
	exitError  = 1 // runtime failure: bad cassette, CA problem, cannot listen; lint found secrets
	exitUsage  = 2 // bad command line
	exitMisses = 3 // --fail-on-miss and at least one request had no recording
)

// version is set at build time with -ldflags "-X main.version=..."
var version = "0.1.0-dev"

const defaultListen = "127.0.0.1:8089"

const usage = `azvcr records Azure Cosmos DB and Resource Manager traffic and replays it offline.

Usage:
  azvcr record      --cassette FILE [flags]   forward to Azure, write every interaction to FILE
  azvcr replay      --cassette FILE [flags]   answer from FILE; no network connection at all
  azvcr auto        --cassette FILE [flags]   replay what FILE holds, record and append the rest
  azvcr passthrough [flags]                   forward and intercept, write nothing
  azvcr ca init     [--ca-dir DIR] [--force]  create the per-install CA (ECDSA P-256, key mode 0600)
  azvcr ca path     [--ca-dir DIR]            print the CA certificate path for clients to trust
  azvcr lint        FILE...                   report anything in FILE that looks like a secret
  azvcr convert     IN OUT                    convert a test-proxy .json recording to a .yaml cassette, or back
  azvcr version

Azure SDK test-proxy drop-in (same engine; see the README's test-proxy section):
  azvcr start [--storage-location DIR] [-- --urls=http://localhost:5000;https://localhost:5001]
                                              serve the test-proxy protocol: /Record/Start,
                                              /Playback/Start, /Admin/..., sessions by x-recording-id
  azvcr restore -a assets.json                nothing to fetch: recordings come from the tree
  azvcr --version                             the bare version, as test-proxy prints it

Proxy flags (record, replay, auto, passthrough):
  --cassette FILE        cassette file (YAML, go-vcr format version 2; version 1 is read too)
  --listen ADDR          address to listen on (default ` + defaultListen + `; port 0 picks one)
  --config FILE          config file with redaction rules (default: .azvcr.yaml in the working
                         directory, if there is one)
  --ca-dir DIR           CA directory (default $AZVCR_CA_DIR, else <user config dir>/azvcr);
                         a CA is created there on first use
  --allow-host HOST      also forward to HOST (exact name, *.suffix or "loopback"); repeatable.
                         Always allowed: *.documents.azure.com, management.azure.com,
                         login.microsoftonline.com, localhost and loopback addresses
  --upstream-ca FILE     trust the PEM certificates in FILE for upstream TLS; repeatable
  --upstream-insecure    do not verify upstream certificates (local emulators only)
  --resolve HOST=ADDR    when forwarding to HOST connect to ADDR instead (TLS still verified for
                         HOST): record an emulator or test server under a production name; repeatable
  --verify-signatures    replay/auto: recompute each Cosmos master-key signature with the playback
                         key and answer 401, as Cosmos DB does, when it does not match
  --playback-key KEY     the key for --verify-signatures (default: the public Cosmos emulator key)
  --fail-on-miss         replay/auto: exit 3 if any request had no recording
  --repeat POLICY        which requests get their last answer again once all recordings are used:
                         metadata (default: account, database, container and pk-range reads),
                         none, or all
  -v, --verbose          log every request

On start azvcr prints the environment a client needs (HTTPS_PROXY and the CA certificate path,
as KEY=VALUE lines on stdout). SIGINT or SIGTERM stops it: every completed interaction is already
on disk; a summary (replayed, unused, misses) goes to stderr and azvcr exits 0.

azvcr lint reads any file line by line (a malformed cassette too) and prints file:line: rule: excerpt
for each value that looks like a secret, masked (first four characters and length). Rules:
cosmos-key, jwt, cosmos-signature, connection-string-key, client-secret, bearer-token,
sas-signature; values are also found URL-encoded, JSON-escaped and inside !!binary bodies. What
azvcr's redaction writes (REDACTED, the zero GUID) is not reported. A summary goes to stderr.

A replayed request with no recording is answered with status 490, header X-Azvcr-Miss and a JSON
body naming the closest recorded interaction and what differed.

Exit codes:
  0  stopped by SIGINT/SIGTERM, or a command finished
  1  runtime error (unreadable or malformed cassette, CA problem, address in use); lint found
     something that looks like a secret, or could not read a file
  2  usage error
  3  --fail-on-miss was given and some request had no recording
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch cmd := args[0]; cmd {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "version":
		fmt.Fprintln(stdout, "azvcr", version)
		return exitOK
	case "--version": // as test-proxy prints it: the bare version
		fmt.Fprintln(stdout, version)
		return exitOK
	case "start":
		return runStart(args[1:], stdout, stderr)
	case "restore":
		return runRestore(args[1:], stdout, stderr)
	case "ca":
		return runCA(args[1:], stdout, stderr)
	case "lint":
		return runLint(args[1:], stdout, stderr)
	case "convert":
		return runConvert(args[1:], stdout, stderr)
	case "record", "replay", "auto", "passthrough":
		mode, _ := engine.ParseMode(cmd)
		return runProxy(mode, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "azvcr: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("azvcr "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	return fs
}

func runCA(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "azvcr ca: want init or path")
		return exitUsage
	}
	fs := newFlagSet("ca "+args[0], stderr)
	caDir := fs.String("ca-dir", "", "CA directory")
	force := fs.Bool("force", false, "replace an existing CA")
	if err := fs.Parse(args[1:]); err != nil {
		return usageCode(err)
	}
	dir, err := resolveCADir(*caDir)
	if err != nil {
		fmt.Fprintln(stderr, "azvcr:", err)
		return exitError
	}
	switch args[0] {
	case "init":
		ca, created, err := certs.InitCA(dir, *force)
		if err != nil {
			fmt.Fprintln(stderr, "azvcr ca init:", err)
			return exitError
		}
		if created {
			fmt.Fprintf(stderr, "azvcr: created CA in %s (key readable by its owner only)\n", dir)
		} else {
			fmt.Fprintf(stderr, "azvcr: CA already exists in %s (use --force to replace it)\n", dir)
		}
		fmt.Fprintln(stdout, ca.CertPath)
		return exitOK
	case "path":
		ca, err := certs.LoadCA(dir)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(stderr, "azvcr ca path: no CA in %s; create one with: azvcr ca init\n", dir)
			} else {
				fmt.Fprintln(stderr, "azvcr ca path:", err)
			}
			return exitError
		}
		fmt.Fprintln(stdout, ca.CertPath)
		return exitOK
	}
	fmt.Fprintf(stderr, "azvcr ca: unknown subcommand %q (want init or path)\n", args[0])
	return exitUsage
}

// runLint prints every finding in the files to stdout and a summary to stderr. Exit 0 when all
// are clean, 1 on any finding or unreadable file, 2 when no file is given.
func runLint(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("lint", stderr)
	if err := fs.Parse(args); err != nil {
		return usageCode(err)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "azvcr lint: no files given (usage: azvcr lint FILE...)")
		return exitUsage
	}
	var findings, dirty, unreadable int
	for _, path := range fs.Args() {
		found, err := secrets.LintFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "azvcr lint:", err)
			unreadable++
			continue
		}
		for _, f := range found {
			fmt.Fprintln(stdout, f)
		}
		findings += len(found)
		if len(found) > 0 {
			dirty++
		}
	}
	var summary string
	if findings > 0 {
		summary = fmt.Sprintf("%s in %s", plural(findings, "finding"), plural(dirty, "file"))
	} else {
		summary = plural(fs.NArg()-unreadable, "file") + " clean"
	}
	if unreadable > 0 {
		summary += fmt.Sprintf("; %s could not be read", plural(unreadable, "file"))
	}
	fmt.Fprintln(stderr, "azvcr lint:", summary)
	if findings > 0 || unreadable > 0 {
		return exitError
	}
	return exitOK
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func resolveCADir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	return certs.DefaultCADir()
}

func usageCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

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
	verbose := fs.Bool("verbose", false, "log every request")
	fs.BoolVar(verbose, "v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return usageCode(err)
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
		forwardproxy.WithRepeat(repeatPolicy), forwardproxy.WithRedactor(redactor)}
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
	if err != nil {
		fmt.Fprintf(stderr, "azvcr %s: %v\n", mode, err)
		return exitError
	}
	if err := srv.Listen(*listen); err != nil {
		srv.Close()
		fmt.Fprintf(stderr, "azvcr %s: %v\n", mode, err)
		return exitError
	}
	if host, _, _ := net.SplitHostPort(srv.Addr()); !isLoopback(host) {
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
		fmt.Fprintf(stderr, "  unused #%d %s %s\n", it.ID, it.Request.Method, it.Request.URL)
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

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
