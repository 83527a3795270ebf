// Command azvcr records Azure Cosmos DB and Resource Manager traffic to YAML cassettes and replays
// it offline. This file holds flags, signals and exit codes only; the work is in the
// packages below it (see docs/architecture.md).
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/azvcr/azvcr/engine"
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

func main() {
	holdHeapFloor()
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	releaseHeapFloor()
	os.Exit(code)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd := args[0]
	if _, known := commandHelp[cmd]; known && cmd != "ca" && wantsHelp(args[1:]) {
		fmt.Fprint(stdout, commandHelp[cmd])
		return exitOK
	}
	switch cmd {
	case "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "help":
		return runHelp(args[1:], stdout, stderr)
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
