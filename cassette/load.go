package cassette

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/net/http/httpguts"

	"github.com/azvcr/azvcr/wire"
)

// Error is a problem with a cassette file, located by file and line (line 0 when the whole file is
// at fault). Its text reads "file:line: message", the way compilers report, so editors can jump to it.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads a cassette file in format version 1 (go-vcr v2) or 2 (go-vcr v3/v4, and azvcr).
func Load(path string) (*Cassette, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	keep, torn, err := findTorn(path, fileSource{f, st.Size()})
	if err != nil {
		return nil, err
	}
	c, err := fastRead(fileSource{f, keep})
	if errors.Is(err, errSlowPath) {
		data := make([]byte, keep)
		if _, err := io.ReadFull(f, data); err != nil {
			return nil, err
		}
		c, err = parseWithLibrary(path, data)
	}
	if c != nil {
		c.Torn = torn
	}
	return c, err
}

// Parse decodes cassette bytes; name is used in error messages only.
func Parse(name string, data []byte) (*Cassette, error) {
	keep, torn, _ := findTorn(name, memSource(data)) // reading memory does not fail
	data = data[:keep]
	c, err := fastRead(memSource(data))
	if errors.Is(err, errSlowPath) {
		c, err = parseWithLibrary(name, data)
	}
	if c != nil {
		c.Torn = torn
	}
	return c, err
}

// parseWithLibrary decodes with the YAML library: any layout, and the errors, at their lines.
func parseWithLibrary(name string, data []byte) (*Cassette, error) {
	c, err := parse(name, data)
	var e *Error
	if errors.As(err, &e) && e.Line > 1 && e.Line > lineCount(data) {
		e.Line = lineCount(data) // a node at the very end ("---" alone) is placed past it
	}
	return c, err
}

// lineCount counts lines as YAML does: a line break is \n, \r or \r\n.
func lineCount(data []byte) int {
	n := 1
	for i := 0; i < len(data); i++ {
		if data[i] == '\n' || data[i] == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
			n++
		}
	}
	return n
}

func parse(name string, data []byte) (*Cassette, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{File: name, Msg: "empty file, not a cassette (want a YAML mapping with version and interactions)"}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, YAMLSyntaxError(name, data, err)
	}
	if err := RefuseAliases(name, &doc); err != nil {
		return nil, err
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Msg: "not a cassette: the top level must be a mapping with version and interactions"}
	}
	version, versionLine, err := readVersion(name, root)
	if err != nil {
		return nil, err
	}
	if version != 1 && version != 2 {
		return nil, &Error{File: name, Line: versionLine, Msg: fmt.Sprintf("unsupported cassette version %d (azvcr reads versions 1 and 2)", version)}
	}
	var c Cassette
	if err := root.Decode(&c); err != nil {
		return nil, YAMLDecodeError(name, err)
	}
	if err := validate(name, root, &c); err != nil {
		return nil, err
	}
	for i, it := range c.Interactions {
		if version == 1 {
			it.ID = i // go-vcr v2 files carry no ids; number them in file order
		}
		normalize(it)
	}
	c.Version = Version
	return &c, nil
}

// normalizeHeaders gives h canonical keys, as Go code looks them up. Keys a file spelled otherwise
// (another tool's files have no header_names) keep that spelling in names, after the names the
// file gives.
func normalizeHeaders(h *http.Header, names *[]string) {
	spelled := wire.SpelledNames(*h)
	if spelled == nil {
		return
	}
	*h = wire.Canonical(*h)
	*names = wire.Fit(*h, append(slices.Clone(*names), spelled...))
}

func readVersion(name string, root *yaml.Node) (int, int, error) {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "version" {
			continue
		}
		v := root.Content[i+1]
		n, err := strconv.Atoi(v.Value)
		if v.Kind != yaml.ScalarNode {
			return 0, v.Line, &Error{File: name, Line: v.Line, Msg: "version must be an integer, got a " + kindName(v.Kind)}
		}
		if err != nil {
			return 0, v.Line, &Error{File: name, Line: v.Line, Msg: fmt.Sprintf("version must be an integer, got %q", v.Value)}
		}
		return n, v.Line, nil
	}
	return 0, 0, &Error{File: name, Line: root.Line, Msg: "no version key: not a cassette (want version: 1 or 2)"}
}

// validate checks what replay relies on, reporting the line of the offending interaction.
func validate(name string, root *yaml.Node, c *Cassette) error {
	lines := interactionLines(root)
	for i, it := range c.Interactions {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		if msg := problem(it); msg != "" {
			return &Error{File: name, Line: line, Msg: fmt.Sprintf("interaction %d: ", i) + msg}
		}
	}
	return nil
}

// problem says what is wrong with an interaction for replay, or "".
func problem(it *Interaction) string {
	if it == nil {
		return "empty entry"
	}
	if it.Request.Method == "" {
		return "request has no method"
	}
	u, err := url.Parse(it.Request.URL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Sprintf("request url %q is not an absolute URL", it.Request.URL)
	}
	if it.Response.Code < 100 || it.Response.Code > 999 {
		return fmt.Sprintf("response code %d is not an HTTP status", it.Response.Code)
	}
	for _, names := range [][]string{it.Request.HeaderNames, it.Response.HeaderNames} {
		for _, n := range names {
			if !httpguts.ValidHeaderFieldName(n) {
				return fmt.Sprintf("header_names: %q is not a header name", n)
			}
		}
	}
	return ""
}

// normalize gives a loaded interaction go-vcr's duration form and canonical header keys.
func normalize(it *Interaction) {
	it.Response.Duration = normalizeDuration(it.Response.Duration)
	normalizeHeaders(&it.Request.Headers, &it.Request.HeaderNames)
	normalizeHeaders(&it.Response.Headers, &it.Response.HeaderNames)
}

func interactionLines(root *yaml.Node) []int {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "interactions" && root.Content[i+1].Kind == yaml.SequenceNode {
			var lines []int
			for _, n := range root.Content[i+1].Content {
				lines = append(lines, n.Line)
			}
			return lines
		}
	}
	return nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "sequence"
	case yaml.MappingNode:
		return "mapping"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

// RefuseAliases fails on the first YAML alias (*name, or a << merge of one) in a parsed file,
// at its line. Decoding expands every alias into a copy of what it names, so a small file of
// aliases to aliases (or 20,000 aliases of one large body) becomes gigabytes; a cassette or a
// config file spells each value out, so none is read. Anchors alone are harmless.
func RefuseAliases(name string, doc *yaml.Node) error {
	stack := []*yaml.Node{doc}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Kind == yaml.AliasNode {
			return &Error{File: name, Line: n.Line, Msg: fmt.Sprintf("YAML alias *%s: aliases are not read (they can expand a small file without bound); write the value out instead", n.Value)}
		}
		for i := len(n.Content) - 1; i >= 0; i-- { // in document order: the first alias is reported
			stack = append(stack, n.Content[i])
		}
	}
	return nil
}

// syntaxErrorLine finds the line of a YAML syntax error: the first line at which a prefix of the
// file stops parsing. The YAML library reports the start of the enclosing block instead
// (reported), or no line at all for errors on line 1. Only called on the error path: the search
// starts at the reported line and gallops forward, and the bytes it parses are bounded by a few
// times the file's size, so a large file fails about as fast as it would load.
func syntaxErrorLine(data []byte, reported int) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	ends := make([]int, len(lines)) // byte offset where line i ends
	off := 0
	for i, l := range lines {
		off += len(l)
		ends[i] = off
	}
	last := len(lines) - 1
	budget := 4*len(data) + 1<<20
	fails := func(i int) bool {
		budget -= ends[i]
		var n yaml.Node
		return yaml.Unmarshal(data[:ends[i]], &n) != nil
	}
	lo := min(max(reported-1, 0), last) // lines before lo are taken to parse
	good, bad := lo-1, last             // the prefix through good parses; through bad, it fails
	for step := 0; good+1 < bad && budget > 0; step = max(1, 2*step) {
		k := min(lo+step, bad-1)
		if k <= good {
			break
		}
		if fails(k) {
			bad = k
			break
		}
		good = k
	}
	for good+1 < bad && budget > 0 { // binary search between them
		k := (good + bad) / 2
		if fails(k) {
			bad = k
		} else {
			good = k
		}
	}
	if good+1 < bad && reported > 0 { // out of budget: the library's line is the better guess
		return reported
	}
	return bad + 1
}

// YAMLSyntaxError reports a YAML file that does not parse, at the line where parsing stops.
func YAMLSyntaxError(name string, data []byte, err error) *Error {
	e := YAMLDecodeError(name, err)
	e.Line = syntaxErrorLine(data, e.Line)
	return e
}

// YAMLDecodeError turns the YAML library's "yaml: line N: msg" into file:line form.
func YAMLDecodeError(name string, err error) *Error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	first := &Error{File: name}
	var rest []string
	for i, m := range msgs {
		line, text := 0, strings.TrimPrefix(m, "yaml: ")
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			line, _ = strconv.Atoi(sm[1])
			text = sm[2]
		}
		if i == 0 {
			first.Line, first.Msg = line, text
			continue
		}
		rest = append(rest, (&Error{File: name, Line: line, Msg: text}).Error())
	}
	if len(rest) > 0 {
		first.Msg += " (and " + strings.Join(rest, "; ") + ")"
	}
	return first
}
