package e2e

import (
	"fmt"
	"os"
	"testing"
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
	os.Exit(m.Run())
}

// helpers are the flows a re-executed test binary can run.
var helpers = map[string]func() error{}
