package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/internal/gitleaks"
)

// helperEnv, when set, makes the test binary run one client flow instead of the tests: the flows
// that must see only the environment (HTTPS_PROXY, SSL_CERT_FILE) run in a fresh process, because
// Go reads proxy settings and system roots once per process.
const helperEnv = "AZVCR_E2E_HELPER"

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		helper, ok := helpers[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown %s %q\n", helperEnv, name)
			os.Exit(2)
		}
		if err := helper(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(runWithLeakScan(m))
}

// runWithLeakScan runs the tests, then gitleaks and azvcr lint over every recording they wrote:
// any finding fails the run. A missing gitleaks fails it at once, saying how to build it.
func runWithLeakScan(m *testing.M) int {
	if _, err := gitleaks.Binary(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "azvcr-e2e-recordings-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	recordings.dir = dir
	code := m.Run()
	problems, n, err := scanRecordings()
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "e2e: scanning the recordings:", err)
		return 1
	case len(problems) > 0:
		fmt.Fprintf(os.Stderr, "e2e: %d findings in the %d recordings the tests wrote:\n  %s\n", len(problems), n, strings.Join(problems, "\n  "))
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("e2e: gitleaks %s and azvcr lint found nothing in the %d recordings the tests wrote\n", gitleaks.Version, n)
	}
	return code
}

// helpers are the flows a re-executed test binary can run.
var helpers = map[string]func() error{}
