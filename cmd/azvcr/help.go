package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/azvcr/azvcr/engine"
)

// commandHelp is each command's help, for `azvcr COMMAND -h` and `azvcr help COMMAND`.
var commandHelp = map[string]string{
	"record": `usage: azvcr record --cassette FILE [flags]

Forwards every request upstream (TLS verified) and appends each completed interaction, redacted,
to a new cassette FILE. A FILE that already holds interactions is refused unless --overwrite is
given (then it is replaced when the first new interaction is written); azvcr auto adds to it.
`,
	"replay": `usage: azvcr replay --cassette FILE [flags]

Answers every request from FILE and opens no network connection. A request with no recording is
answered 490 with the closest recording and what differed.
`,
	"auto": `usage: azvcr auto --cassette FILE [flags]

Replays what FILE holds; forwards what it does not and appends those interactions to FILE.
`,
	"passthrough": `usage: azvcr passthrough [flags]

Forwards and intercepts every request and writes nothing: see what a client sends.
`,
	"ca": `usage: azvcr ca init [--ca-dir DIR] [--force]
       azvcr ca path [--ca-dir DIR]

init creates the per-install CA (ECDSA P-256, key file mode 0600) that signs the certificates of
intercepted hosts, and prints its certificate's path; an existing CA is kept unless --force.
path prints the CA certificate's path for clients to trust.

  --ca-dir DIR   CA directory (default $AZVCR_CA_DIR, else <user config dir>/azvcr)
  --force        init: replace an existing CA (clients must trust the new one)
`,
	"lint": `usage: azvcr lint [--format text|json] FILE...

Reads each FILE line by line (a malformed cassette too) and reports every value that looks like a
secret as file:line: rule: excerpt, masked. Exit 1 when anything is found or a file cannot be
read. --format json prints one document (files, clean, findings, unreadable) on stdout.
`,
	"convert": convertUsage,
	"start": `usage: azvcr start [--storage-location DIR] [--resolve HOST=ADDR] [--upstream-ca FILE]
                   [--max-body-size SIZE] [-v] [-- --urls=URL;URL]

Serves Microsoft's Azure SDK test-proxy protocol (/Record/Start, /Playback/Start, /Admin/...,
sessions by x-recording-id) on the same engine.

  --storage-location DIR, -l DIR
                       recordings are read and written under DIR (default: the working
                       directory), and nowhere else: a path outside it is refused with 400
  --urls URL;URL       where to listen (default ` + defaultTestProxyURLs + `, or
                       $ASPNETCORE_URLS); http or https, a host and a port (0 picks one). A host of
                       *, + or 0.0.0.0 listens on every interface, with a warning
  --resolve HOST=ADDR  record sessions reach HOST at ADDR (TLS still verified for HOST)
  --upstream-ca FILE   trust the PEM certificates in FILE for upstream TLS
  --max-body-size SIZE refuse bodies larger than SIZE (default 64MiB; 0: no limit) with 413
  -v, --verbose        log every request

Other test-proxy options are accepted and ignored, with a note on stderr.
`,
	"restore": `usage: azvcr restore -a assets.json

Fetches the recordings an assets.json names with git into <repo root>/.assets, as test-proxy's
restore does (the assets repository is $AZVCR_ASSETS_BASE_URL/<AssetsRepo>, default
https://github.com/<AssetsRepo>).

  -a, --assets-json-path FILE   the assets.json
`,
	"version": `usage: azvcr version

Prints azvcr's version (azvcr --version prints it bare, as test-proxy does).
`,
}

func init() {
	for _, mode := range []string{"record", "replay", "auto", "passthrough"} {
		commandHelp[mode] += "\nFlags:\n" + proxyFlags + "\n"
	}
}

// runHelp answers `azvcr help [COMMAND]`.
func runHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	h, ok := commandHelp[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "azvcr help: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	fmt.Fprint(stdout, h)
	return exitOK
}

// wantsHelp reports -h, --help (or -help, -?) among args, before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "--help", "-help", "-?":
			return true
		}
	}
	return false
}

// newFlagSet is a command's flags. Parse errors are reported by parseFlags.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("azvcr "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses a command's flags. Asked for help, it prints the command's help on stdout
// (done, exit 0); on a bad flag, the error and the help go to stderr (done, exit 2).
func parseFlags(fs *flag.FlagSet, command string, args []string, stdout, stderr io.Writer) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, commandHelp[command])
		return exitOK, true
	}
	fmt.Fprintf(stderr, "\n%s", commandHelp[command])
	return exitUsage, true
}

// sizeFlag is a byte size flag: 64MiB, 2MB, 1048576.
type sizeFlag int64

func (s *sizeFlag) String() string { return engine.FormatSize(int64(*s)) }
func (s *sizeFlag) Set(v string) error {
	n, err := engine.ParseSize(v)
	*s = sizeFlag(n)
	return err
}
