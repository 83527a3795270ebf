package testproxy

import (
	"net/http"
	"os"
	"path/filepath"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/secrets"
	"github.com/azvcr/azvcr/testproxyjson"
)

// save writes a sanitized recording, unless azvcr's secret detectors still find a key, token,
// signature or client secret in it: then nothing is written and the answer names what was found
// (masked) so the harness can add a sanitizer. In test-proxy mode the sanitizers are the
// redaction; this check keeps azvcr's promise that no detectable secret reaches a file.
func (s *Server) save(file string, c *cassette.Cassette) *httpError {
	data, err := testproxyjson.Marshal(c, c.Variables) // scanned whatever the file's format
	if err != nil {
		return errorf(http.StatusInternalServerError, "Record/Stop: %s: %v", file, err)
	}
	if found := secrets.Lint(file, data); len(found) > 0 {
		return s.refuse(file, found)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return errorf(http.StatusInternalServerError, "Record/Stop: %v", err)
	}
	if isYAML(file) {
		err = cassette.Save(file, c)
	} else {
		err = cassette.WriteAtomic(file, data)
	}
	if err != nil {
		return errorf(http.StatusInternalServerError, "Record/Stop: saving %s: %v", file, err)
	}
	return nil
}
