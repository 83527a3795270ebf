package recorder

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/azvcr/azvcr/engine"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/redact"
)

// Mode selects what the recorder does with a request (the engine's modes).
type Mode = engine.Mode

// The modes. AZVCR_MODE names them: record, replay, auto, passthrough.
const (
	// ModeRecord sends every request to the real service and records the cassette afresh. The new
	// cassette replaces the old one only when the test passes.
	ModeRecord = engine.Record
	// ModeReplay answers every request from the cassette and opens no connection (the default).
	ModeReplay = engine.Replay
	// ModeAuto replays what the cassette holds and records, appending, what it does not.
	ModeAuto = engine.Auto
	// ModePassthrough sends every request to the real service and records nothing.
	ModePassthrough = engine.Passthrough
)

// DefaultCassetteDir is where cassettes named after tests live, relative to the test's package.
const DefaultCassetteDir = "testdata/cassettes"

type config struct {
	mode         Mode // "" until an option or the environment sets it
	cassette     string
	dir          string
	real         http.RoundTripper
	redactor     redact.Redactor
	configFile   string
	repeat       matcher.Repeat
	verifyKey    string
	failOnUnused bool
	logger       *slog.Logger
}

// Option configures a Recorder, in the manner of go-vcr's recorder options.
type Option func(*config)

// WithMode sets the mode, overriding AZVCR_MODE and AZURE_RECORD_MODE.
func WithMode(m Mode) Option { return func(c *config) { c.mode = m } }

// WithCassette names the cassette file instead of one named after the test. As with go-vcr, the
// name may leave out ".yaml".
func WithCassette(path string) Option {
	return func(c *config) {
		if !strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml") {
			path += ".yaml"
		}
		c.cassette = path
	}
}

// WithCassetteDir keeps the cassette named after the test, in dir instead of testdata/cassettes.
func WithCassetteDir(dir string) Option { return func(c *config) { c.dir = dir } }

// WithRealTransport is how recorded and passed-through requests reach the service. The default
// is what the SDK would use without the recorder (TLS verified against the system roots,
// SSL_CERT_FILE included, the proxy from the environment), over azvcr's HTTP/1.1 transport, which
// lets the cassette keep header names as the service spelled them; a transport given here is
// used as it is, and the cassette then keeps names only as Go spells them.
func WithRealTransport(rt http.RoundTripper) Option { return func(c *config) { c.real = rt } }

// WithRedactor replaces the redaction rules (default: azvcr's rules, plus .azvcr.yaml when one
// is found; see WithConfig).
func WithRedactor(r redact.Redactor) Option { return func(c *config) { c.redactor = r } }

// WithConfig reads redaction rules from an azvcr config file. Without it the recorder looks for
// .azvcr.yaml in the test's directory and each parent up to the module root (go.mod).
func WithConfig(path string) Option { return func(c *config) { c.configFile = path } }

// WithRepeat sets which requests get their last recorded answer again once every recording of
// them is used (default matcher.RepeatMetadata: account, database, container and partition-key
// range reads).
func WithRepeat(r matcher.Repeat) Option { return func(c *config) { c.repeat = r } }

// WithSignatureCheck makes replay recompute each Cosmos DB master-key signature with keyBase64
// (engine.EmulatorKey, say) and answer 401, as Cosmos DB would, when it does not match.
func WithSignatureCheck(keyBase64 string) Option { return func(c *config) { c.verifyKey = keyBase64 } }

// WithFailOnUnused fails the test, at cleanup, when recorded interactions were never requested.
// Without it they are only logged.
func WithFailOnUnused() Option { return func(c *config) { c.failOnUnused = true } }

// WithLogger receives the engine's log (every replay, recording and miss); the default discards
// it, since misses and upstream failures are reported on the test itself.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }
