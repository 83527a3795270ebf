// Package cassette is azvcr's file format: the types of a recorded interaction, loading of go-vcr
// version 1 and 2 files, durable journal writing and atomic saves. It imports nothing else from
// azvcr; what reaches disk is decided above it, in package redact.
package cassette

import (
	"net/http"
	"net/url"
)

// Version is the cassette format azvcr writes: go-vcr v3/v4's version 2.
const Version = 2

// Cassette is a recorded session.
type Cassette struct {
	Version int `yaml:"version"`
	// Variables are the test-proxy recording variables (Microsoft's test-proxy returns them from
	// /Playback/Start). go-vcr ignores the key; Save writes it before interactions, which stay last
	// so the journal can append to them.
	Variables    map[string]string `yaml:"variables,omitempty"`
	Interactions []*Interaction    `yaml:"interactions"`
	// Torn is the interaction a killed recording left half written at the end of the file, which
	// the loader left out (see TornItem); nil when there is none. It is never written.
	Torn *TornItem `yaml:"-"`
}

// Interaction is one request and the response it got. The field set is go-vcr v4's, so files load
// in go-vcr and go-vcr's files load here.
type Interaction struct {
	ID       int      `yaml:"id"`
	Request  Request  `yaml:"request"`
	Response Response `yaml:"response"`

	lazy *lazyRef // where a light interaction (LoadForReplay) is in its file; see Full
}

// Request is a recorded request. Body is stored decoded; a body that is not UTF-8 is written as
// YAML !!binary and read back byte for byte.
//
// Headers has canonical keys ("X-Ms-Continuation"), as go-vcr and Go clients look them up.
// HeaderNames, when known, is how the header lines were on the wire: one name per line, spelled
// and ordered as sent ("x-ms-continuation"); go-vcr ignores it, and azvcr answers with it (see
// package wire). Recordings from before it, or from tools that do not keep it, have none.
type Request struct {
	Proto         string      `yaml:"proto"`
	ProtoMajor    int         `yaml:"proto_major"`
	ProtoMinor    int         `yaml:"proto_minor"`
	ContentLength int64       `yaml:"content_length"`
	Host          string      `yaml:"host"`
	Body          string      `yaml:"body"`
	Form          url.Values  `yaml:"form,omitempty"`
	Headers       http.Header `yaml:"headers"`
	HeaderNames   []string    `yaml:"header_names,omitempty"`
	URL           string      `yaml:"url"`
	Method        string      `yaml:"method"`
}

// Response is a recorded response. Headers and HeaderNames are as in Request; Status keeps the
// reason phrase as sent ("200 Ok" is not "200 OK"). Duration is kept as go-vcr writes it ("12.5ms"); it is
// informational and never used to delay a replay.
type Response struct {
	Proto         string      `yaml:"proto"`
	ProtoMajor    int         `yaml:"proto_major"`
	ProtoMinor    int         `yaml:"proto_minor"`
	ContentLength int64       `yaml:"content_length"`
	Body          string      `yaml:"body"`
	Headers       http.Header `yaml:"headers"`
	HeaderNames   []string    `yaml:"header_names,omitempty"`
	Status        string      `yaml:"status"`
	Code          int         `yaml:"code"`
	Duration      string      `yaml:"duration"`
}
