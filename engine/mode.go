package engine

import "fmt"

// Mode selects what the engine does with a request.
type Mode string

const (
	// Record forwards every request upstream and records each interaction.
	Record Mode = "record"
	// Replay answers every request from the recording and opens no network connection.
	Replay Mode = "replay"
	// Auto replays what the recording holds and records (and appends) what it does not.
	Auto Mode = "auto"
	// Passthrough forwards without recording.
	Passthrough Mode = "passthrough"
)

// ParseMode accepts a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Record, Replay, Auto, Passthrough:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q (want record, replay, auto or passthrough)", s)
}

// Forwards reports whether requests may go upstream.
func (m Mode) Forwards() bool { return m != Replay }

// Replays reports whether requests are answered from the recording.
func (m Mode) Replays() bool { return m == Replay || m == Auto }

// Records reports whether forwarded interactions are recorded.
func (m Mode) Records() bool { return m == Record || m == Auto }
