package cassette

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// header starts every file azvcr writes. interactions comes last so that appending one YAML
// sequence item at a time keeps the file a complete, loadable cassette after every write.
const header = "version: 2\ninteractions:\n"

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeItems renders interactions as the items of the interactions sequence.
func encodeItems(items []*Interaction) ([]byte, error) {
	if len(items) == 0 {
		return nil, nil
	}
	return encode(items)
}

// normalizeDuration writes durations the way go-vcr reads them: a Go duration string, "0s" when
// unknown, and integer nanoseconds (as some version 1 files hold) converted.
func normalizeDuration(d string) string {
	if d == "" {
		return "0s"
	}
	if n, err := strconv.ParseInt(d, 10, 64); err == nil {
		return time.Duration(n).String()
	}
	return d
}

// Save writes c to path atomically: a reader sees the old file or the new one, never a mix. The
// file is written as it is encoded, a chunk of interactions at a time.
func Save(path string, c *Cassette) error {
	return WriteAtomicFunc(path, func(w io.Writer) error { return write(w, c) })
}

// Marshal is the file Save writes: version, then variables (when there are any), then
// interactions, last, so a journal can go on appending to the file.
func Marshal(c *Cassette) ([]byte, error) {
	var buf bytes.Buffer
	err := write(&buf, c)
	return buf.Bytes(), err
}

func write(w io.Writer, c *Cassette) error {
	head := []byte(header)
	if len(c.Variables) > 0 {
		vars, err := encode(struct {
			Variables map[string]string `yaml:"variables"`
		}{c.Variables})
		if err != nil {
			return err
		}
		head = append(append([]byte("version: 2\n"), vars...), "interactions:\n"...)
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	return writeItems(w, c.Interactions)
}

// WriteAtomic writes data to path through a temporary file in the same directory, synced and
// renamed into place: a reader sees the old file or the new one, never a mix.
func WriteAtomic(path string, data []byte) error {
	return WriteAtomicFunc(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomicFunc is WriteAtomic of what fill writes to the temporary file (created 0600, so
// nothing is readable by others before it is complete). When fill fails, the temporary file is
// removed and path is left as it was.
func WriteAtomicFunc(path string, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
