package engine

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/matcher"
	"github.com/azvcr/azvcr/testproxyjson"
)

// Open builds an engine over the cassette file at path: loaded for replay (a .json file is read as
// a test-proxy recording), created for record,
// loaded and appended to for auto (passthrough needs none). A bad file fails here, before any
// request. Close the engine to close the file.
func Open(mode Mode, path string, repeat matcher.Repeat, opts ...Option) (*Engine, error) {
	var existing *cassette.Cassette
	var journal *cassette.Journal
	var err error
	switch mode {
	case Replay:
		existing, err = load(path)
	case Record:
		journal, err = cassette.Create(path)
	case Auto:
		journal, existing, err = cassette.OpenAppend(path)
	}
	if err != nil {
		return nil, err
	}
	if journal != nil {
		opts = append(opts, WithSink(journal))
	}
	if mode.Replays() {
		idx, err := matcher.New(existing.Interactions, matcher.WithRepeat(repeat))
		if err != nil {
			closeSink(journal)
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		opts = append(opts, WithIndex(idx))
	}
	e, err := New(mode, opts...)
	if err != nil {
		closeSink(journal)
		return nil, err
	}
	return e, nil
}

// load reads a cassette to replay: YAML, or Microsoft's test-proxy JSON for a .json file.
func load(path string) (*cassette.Cassette, error) {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		c, _, err := testproxyjson.Load(path)
		return c, err
	}
	return cassette.Load(path)
}

func closeSink(j *cassette.Journal) {
	if j != nil {
		j.Close()
	}
}

// Close closes the sink when it is a file (a cassette journal). Every interaction recorded is
// already on disk.
func (e *Engine) Close() error {
	if c, ok := e.sink.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
