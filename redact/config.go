package redact

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/azvcr/azvcr/cassette"
)

// ConfigFile is the file azvcr reads from the working directory when no --config is given.
const ConfigFile = ".azvcr.yaml"

// Config is azvcr's config file. Today it holds redaction settings:
//
//	redact:
//	  disable: [durations]             # default rules to turn off, by name
//	  keep_headers: [x-ms-request-id]  # header values no rule may change
//	  rules:
//	    - regex: 'myacct-westus\.documents\.azure\.com'
//	      replace: myacct.documents.azure.com
//	    - header: x-ms-session-token
//	      replace: "0:0#0"
//	    - json_path: $.properties.documentEndpoint
//	      replace: https://myacct.documents.azure.com:443/
//	    - url: query
//	      param: sig
//	      replace: REDACTED
type Config struct {
	Redact RedactConfig `yaml:"redact"`
}

// RedactConfig turns default rules off and adds user rules.
type RedactConfig struct {
	Disable     []string   `yaml:"disable"`
	KeepHeaders []string   `yaml:"keep_headers"`
	Rules       []UserRule `yaml:"rules"`
}

// UserRule is one rule from the config file: exactly one of Header, JSONPath, Regex or URL says
// what it replaces, and Replace says with what.
type UserRule struct {
	Name     string `yaml:"name"`
	Header   string `yaml:"header"`    // the value of this header, in requests and responses
	JSONPath string `yaml:"json_path"` // the value at this path in JSON bodies: $.a.b, $.a[*].b, $.a[0], $..b
	Regex    string `yaml:"regex"`     // every match anywhere: URL, header values, bodies ($1 expands groups)
	URL      string `yaml:"url"`       // a part of the request URL: host, path or query
	Param    string `yaml:"param"`     // with url: query, the parameter whose value is replaced
	Match    string `yaml:"match"`     // with url: host or path, a regular expression within that part
	Replace  string `yaml:"replace"`
}

// LoadConfig reads a config file. Unknown keys and invalid rules are errors naming file and line.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes config bytes; name is used in errors.
func ParseConfig(name string, data []byte) (*Config, error) {
	var c Config
	if len(bytes.TrimSpace(data)) == 0 {
		return &c, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, cassette.YAMLSyntaxError(name, data, err)
	}
	if err := cassette.RefuseAliases(name, &doc); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, cassette.YAMLDecodeError(name, err)
	}
	lines := ruleLines(&doc)
	for i := range c.Redact.Rules {
		if _, err := c.Redact.Rules[i].rule(); err != nil {
			return nil, &cassette.Error{File: name, Line: lines[i], Msg: fmt.Sprintf("redact rule %d: %v", i+1, err)}
		}
	}
	if _, err := c.Redact.Redactor(); err != nil {
		return nil, &cassette.Error{File: name, Msg: err.Error()}
	}
	return &c, nil
}

func ruleLines(doc *yaml.Node) []int {
	var lines []int
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	redact := mapValue(root, "redact")
	if rules := mapValue(redact, "rules"); rules != nil {
		for _, n := range rules.Content {
			lines = append(lines, n.Line)
		}
	}
	return lines
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// Redactor is the default rules minus those disabled, then the user rules, with kept headers
// protected from all of them.
func (c RedactConfig) Redactor() (Redactor, error) {
	r, err := DefaultRules().Without(c.Disable...)
	if err != nil {
		return nil, err
	}
	for i, u := range c.Rules {
		rule, err := u.rule()
		if err != nil {
			return nil, fmt.Errorf("redact rule %d: %w", i+1, err)
		}
		r = append(r, rule)
	}
	if len(c.KeepHeaders) > 0 {
		r = append(r, KeepHeaders{Headers: c.KeepHeaders})
	}
	return r, nil
}

func (u UserRule) rule() (Rule, error) {
	kinds := 0
	for _, s := range []string{u.Header, u.JSONPath, u.Regex, u.URL} {
		if s != "" {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, fmt.Errorf("want exactly one of header, json_path, regex or url")
	}
	name := u.Name
	switch {
	case u.Header != "":
		if name == "" {
			name = "header " + u.Header
		}
		return HeaderRule{RuleName: name, Headers: []string{u.Header}, Value: u.Replace}, nil
	case u.JSONPath != "":
		path, err := compileJSONPath(u.JSONPath)
		if err != nil {
			return nil, err
		}
		if name == "" {
			name = "json_path " + u.JSONPath
		}
		return jsonPathRule{name: name, path: path, with: strconv.Quote(u.Replace)}, nil
	case u.Regex != "":
		re, err := regexp.Compile(u.Regex)
		if err != nil {
			return nil, fmt.Errorf("regex: %w", err)
		}
		if name == "" {
			name = "regex " + u.Regex
		}
		return regexRule{name: name, re: re, replace: u.Replace, where: everywhere}, nil
	}
	return newURLRule(name, u)
}

// jsonPathRule replaces values at a path in JSON bodies of requests and responses.
type jsonPathRule struct {
	name string
	path *JSONPath
	with string // JSON text
}

func (j jsonPathRule) Name() string                        { return j.name }
func (j jsonPathRule) RedactRequest(r *cassette.Request)   { r.Body = j.apply(r.Body) }
func (j jsonPathRule) RedactResponse(r *cassette.Response) { r.Body = j.apply(r.Body) }
func (j jsonPathRule) apply(body string) string {
	if !looksJSON(body) {
		return body
	}
	return replaceJSONValues(body, j.path, j.with)
}

// urlRule replaces a part of request URLs: the host, a match in the path, or a query value.
type urlRule struct {
	name    string
	part    string
	param   string
	re      *regexp.Regexp
	replace string
}

func newURLRule(name string, u UserRule) (Rule, error) {
	r := urlRule{name: name, part: u.URL, param: u.Param, replace: u.Replace}
	if r.name == "" {
		r.name = "url " + u.URL
	}
	switch u.URL {
	case "query":
		if u.Param == "" {
			return nil, fmt.Errorf("url: query needs param")
		}
	case "host", "path":
		pattern := u.Match
		if pattern == "" {
			pattern = ".+"
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, fmt.Errorf("match: %w", err)
		}
		r.re = re
	default:
		return nil, fmt.Errorf("url: want host, path or query, got %q", u.URL)
	}
	return r, nil
}

func (r urlRule) Name() string                      { return r.name }
func (r urlRule) RedactResponse(*cassette.Response) {}
func (r urlRule) RedactRequest(req *cassette.Request) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return
	}
	switch r.part {
	case "host":
		u.Host = r.re.ReplaceAllString(u.Host, r.replace)
		if req.Host != "" {
			req.Host = r.re.ReplaceAllString(req.Host, r.replace)
		}
	case "path":
		p := r.re.ReplaceAllString(u.EscapedPath(), r.replace)
		if dec, err := url.PathUnescape(p); err == nil {
			u.Path, u.RawPath = dec, p
		}
	case "query":
		q := u.Query()
		if _, ok := q[r.param]; !ok {
			return
		}
		q.Set(r.param, r.replace)
		u.RawQuery = q.Encode()
	}
	req.URL = u.String()
}
