package recorder

import (
	"fmt"
	"os"
	"strings"

	"github.com/azvcr/azvcr/engine"
)

// Environment variables that choose the mode. AZVCR_MODE wins over AZURE_RECORD_MODE, which is
// what the Azure SDK test harnesses read.
const (
	ModeEnv      = "AZVCR_MODE"
	AzureModeEnv = "AZURE_RECORD_MODE"
)

// ModeFromEnv reads the mode from the environment: AZVCR_MODE (record, replay, auto,
// passthrough), else AZURE_RECORD_MODE (live, record, playback), else replay.
func ModeFromEnv() (Mode, error) {
	if v := strings.TrimSpace(os.Getenv(ModeEnv)); v != "" {
		m, err := engine.ParseMode(strings.ToLower(v))
		if err != nil {
			return "", fmt.Errorf("%s: %w", ModeEnv, err)
		}
		return m, nil
	}
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv(AzureModeEnv))); v {
	case "":
		return ModeReplay, nil
	case "playback":
		return ModeReplay, nil
	case "record":
		return ModeRecord, nil
	case "live":
		return ModePassthrough, nil
	default:
		return "", fmt.Errorf("%s: unknown mode %q (want live, record or playback)", AzureModeEnv, v)
	}
}
