package cassette

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// text is a body as written to YAML. The YAML library writes multi-line strings as literal blocks,
// but cannot read back a block with a line that starts with a tab; those are double-quoted instead.
// Everything else keeps the library's choice: readable blocks, plain JSON, !!binary for non-UTF-8.
type text string

func (t text) MarshalYAML() (any, error) {
	s := string(t)
	if utf8.ValidString(s) && strings.Contains(s, "\n") && (strings.HasPrefix(s, "\t") || strings.Contains(s, "\n\t")) {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}, nil
	}
	return s, nil
}

// requestYAML and responseYAML mirror Request and Response field for field, with bodies as text.
type requestYAML struct {
	Proto         string      `yaml:"proto"`
	ProtoMajor    int         `yaml:"proto_major"`
	ProtoMinor    int         `yaml:"proto_minor"`
	ContentLength int64       `yaml:"content_length"`
	Host          string      `yaml:"host"`
	Body          text        `yaml:"body"`
	Form          url.Values  `yaml:"form,omitempty"`
	Headers       http.Header `yaml:"headers"`
	HeaderNames   []string    `yaml:"header_names,omitempty"`
	URL           string      `yaml:"url"`
	Method        string      `yaml:"method"`
}

type responseYAML struct {
	Proto         string      `yaml:"proto"`
	ProtoMajor    int         `yaml:"proto_major"`
	ProtoMinor    int         `yaml:"proto_minor"`
	ContentLength int64       `yaml:"content_length"`
	Body          text        `yaml:"body"`
	Headers       http.Header `yaml:"headers"`
	HeaderNames   []string    `yaml:"header_names,omitempty"`
	Status        string      `yaml:"status"`
	Code          int         `yaml:"code"`
	Duration      string      `yaml:"duration"`
}

// MarshalYAML writes the request with a body style that always reads back.
func (r Request) MarshalYAML() (any, error) {
	return requestYAML{r.Proto, r.ProtoMajor, r.ProtoMinor, r.ContentLength, r.Host, text(r.Body), r.Form, r.Headers, r.HeaderNames, r.URL, r.Method}, nil
}

// MarshalYAML writes the response with a body style that always reads back, and a duration
// go-vcr can parse.
func (r Response) MarshalYAML() (any, error) {
	return responseYAML{r.Proto, r.ProtoMajor, r.ProtoMinor, r.ContentLength, text(r.Body), r.Headers, r.HeaderNames, r.Status, r.Code, normalizeDuration(r.Duration)}, nil
}
