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
	var file io.Closer // what replay reads recordings from when it answers them
	var err error
	switch mode {
	case Replay:
		existing, file, err = load(path)
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
			closeFile(file)
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		opts = append(opts, WithIndex(idx))
	}
	e, err := New(mode, opts...)
	if err != nil {
		closeSink(journal)
		closeFile(file)
		return nil, err
	}
	e.file = file
	if existing != nil && existing.Torn != nil {
		msg := "cassette: " + existing.Torn.String()
		if mode == Auto {
			msg += ", and the file was rewritten without it" // OpenAppend saved what it loaded
		}
		e.log.Warn(msg)
	}
	return e, nil
}

// load reads a cassette to replay: YAML, or Microsoft's test-proxy JSON for a .json file. YAML
// is read light (only what the match key reads; each recording is read whole again from the file,
// kept open, when it is first answered), since replay answers only some of a cassette.
func load(path string) (*cassette.Cassette, io.Closer, error) {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		c, _, err := testproxyjson.Load(path)
		return c, nil, err
	}
	return cassette.LoadForReplay(path, matcher.Reads)
}

func closeFile(f io.Closer) {
	if f != nil {
		f.Close()
	}
}

func closeSink(j *cassette.Journal) {
	if j != nil {
		j.Close()
	}
}

// Close closes the sink when it is a file (a cassette journal), and the cassette replay reads
// recordings from. Every interaction recorded is already on disk.
func (e *Engine) Close() error {
	var err error
	e.closing.Do(func() {
		if e.file != nil {
			err = e.file.Close()
		}
	})
	if c, ok := e.sink.(io.Closer); ok {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
