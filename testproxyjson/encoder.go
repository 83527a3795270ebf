package testproxyjson

import (
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/azvcr/azvcr/cassette"
)

// Encoder writes a test-proxy recording entry by entry, byte for byte as Marshal writes the
// whole recording, so a large recording never needs to be held as one buffer. Call Entry for each
// exchange in order, then Close; the first error stops the encoder.
type Encoder struct {
	out   io.Writer
	vars  map[string]string
	w     tpWriter
	index int // of the next entry
	err   error
}

// encoderFlush is how much an Encoder gathers before it writes to its writer.
const encoderFlush = 64 << 10

// NewEncoder starts a recording on out, with vars as its variables (written by Close). As in
// Marshal, a variable that is not UTF-8 is an error, reported before any entry.
func NewEncoder(out io.Writer, vars map[string]string) *Encoder {
	e := &Encoder{out: out, vars: vars}
	for k, v := range vars {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			e.err = fmt.Errorf("variable %q is not UTF-8", k)
		}
	}
	e.w.b = make([]byte, 0, encoderFlush+encoderFlush/4)
	e.w.open('{')
	e.w.key("Entries")
	e.w.open('[')
	return e
}

// Entry writes the next exchange. An exchange that cannot be written is an *InteractionError
// naming its place in the recording.
func (e *Encoder) Entry(it *cassette.Interaction) error {
	if e.err != nil {
		return e.err
	}
	if it == nil {
		e.err = &InteractionError{Index: e.index, Msg: "empty entry"}
		return e.err
	}
	if err := e.w.entry(it); err != nil {
		e.err = &InteractionError{Index: e.index, ID: it.ID, Msg: err.Error()}
		return e.err
	}
	e.index++
	if len(e.w.b) >= encoderFlush {
		e.flush()
	}
	return e.err
}

func (e *Encoder) flush() {
	if e.err == nil && len(e.w.b) > 0 {
		_, e.err = e.out.Write(e.w.b)
	}
	e.w.b = e.w.b[:0]
}

// Close writes the variables and the end of the recording.
func (e *Encoder) Close() error {
	if e.err != nil {
		return e.err
	}
	e.w.end(e.vars)
	e.flush()
	if e.err == nil {
		e.err = errClosed
		return nil
	}
	return e.err
}

var errClosed = fmt.Errorf("testproxyjson: Encoder used after Close")
