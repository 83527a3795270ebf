package testproxy

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
	"github.com/azvcr/azvcr/testproxyjson"
)

// sanitizer is one of test-proxy's sanitizers. Most edit each exchange on its own; a few
// (RegexEntrySanitizer, OAuthResponseSanitizer, ContinuationSanitizer) work on the recording as a
// whole, and on a single live request behave like the base sanitizer.
type sanitizer interface {
	entry(it *cassette.Interaction, o redact.SanitizeOptions)
	recording(its []*cassette.Interaction, o redact.SanitizeOptions) []*cassette.Interaction
}

// entrySanitizer edits every exchange alike.
type entrySanitizer struct{ rule *redact.SanitizerRule }

func (e entrySanitizer) entry(it *cassette.Interaction, o redact.SanitizeOptions) {
	e.rule.Sanitize(it, o)
}

func (e entrySanitizer) recording(its []*cassette.Interaction, o redact.SanitizeOptions) []*cassette.Interaction {
	for _, it := range its {
		e.rule.Sanitize(it, o)
	}
	return its
}

// baseEntry is what the recording-level sanitizers do to one exchange: they inherit the base
// sanitizer's Authorization replacement.
var baseEntry = mustRule(redact.Sanitizer{Kind: "RecordedTestSanitizer", AuthHeader: true})

func mustRule(s redact.Sanitizer) *redact.SanitizerRule {
	r, err := redact.NewSanitizerRule(s)
	if err != nil {
		panic(err)
	}
	return r
}

// sanitizerKinds builds each sanitizer class a harness may name in x-abstraction-identifier.
var sanitizerKinds = map[string]func(ctorArgs) (sanitizer, error){
	"GeneralRegexSanitizer": regexKind("GeneralRegexSanitizer", redact.PartURI|redact.PartHeaders|redact.PartBody, ".+"),
	"BodyRegexSanitizer":    regexKind("BodyRegexSanitizer", redact.PartBody, ""),
	"UriRegexSanitizer": func(a ctorArgs) (sanitizer, error) {
		if _, ok, _ := a.get("regex"); !ok {
			return nil, fmt.Errorf("Expression of value  does not successfully compile: UriRegexSanitizer needs a regex.")
		}
		return regexKind("UriRegexSanitizer", redact.PartURI, "")(a)
	},
	"HeaderRegexSanitizer": func(a ctorArgs) (sanitizer, error) {
		key, err := a.required("key")
		if err != nil {
			return nil, err
		}
		return regexKindWith("HeaderRegexSanitizer", redact.PartHeaders, ".+", func(s *redact.Sanitizer) { s.Header = key })(a)
	},
	"BodyKeySanitizer": func(a ctorArgs) (sanitizer, error) {
		path, err := a.required("jsonPath")
		if err != nil {
			return nil, err
		}
		return regexKindWith("BodyKeySanitizer", redact.PartBody, ".+", func(s *redact.Sanitizer) { s.JSONPath = path })(a)
	},
	"GeneralStringSanitizer": stringKind("GeneralStringSanitizer", redact.PartURI|redact.PartHeaders|redact.PartBody, false),
	"BodyStringSanitizer":    stringKind("BodyStringSanitizer", redact.PartBody, false),
	"UriStringSanitizer":     stringKind("UriStringSanitizer", redact.PartURI, false),
	"HeaderStringSanitizer":  stringKind("HeaderStringSanitizer", redact.PartHeaders, true),
	"UriSubscriptionIdSanitizer": func(a ctorArgs) (sanitizer, error) {
		value, err := a.optional("value", redact.ZeroGUID)
		if err != nil {
			return nil, err
		}
		cond, err := a.condition()
		if err != nil {
			return nil, err
		}
		return newEntrySanitizer(redact.Sanitizer{Kind: "UriSubscriptionIdSanitizer", Parts: redact.PartURI, Value: value, Condition: cond,
			Regex: `/subscriptions/(?<subid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`, Group: "subid"})
	},
	"RemoveHeaderSanitizer": func(a ctorArgs) (sanitizer, error) {
		list, err := a.required("headersForRemoval")
		if err != nil {
			return nil, err
		}
		cond, err := a.condition()
		if err != nil {
			return nil, err
		}
		return newEntrySanitizer(redact.Sanitizer{Kind: "RemoveHeaderSanitizer", Remove: strings.Split(list, ","), Condition: cond})
	},
	"ContentDispositionFilePathSanitizer": func(ctorArgs) (sanitizer, error) {
		// Multipart bodies: a Content-Disposition filename keeps only its last path element.
		return newEntrySanitizer(redact.Sanitizer{Kind: "ContentDispositionFilePathSanitizer", Parts: redact.PartBody,
			Regex: `(?i)(?<=Content-Disposition:[^\r\n]*filename="?)(?<dir>[^"\r\n]*[\\/])`, Group: "dir", Value: ""})
	},
	"RegexEntrySanitizer": func(a ctorArgs) (sanitizer, error) {
		target, err := a.required("target")
		if err != nil {
			return nil, err
		}
		expr, err := a.required("regex")
		if err != nil {
			return nil, err
		}
		match, err := redact.MatchNET(expr)
		if err != nil {
			return nil, err
		}
		switch t := strings.ToLower(target); t {
		case "uri", "header", "body":
			return regexEntry{target: t, match: match}, nil
		}
		return nil, fmt.Errorf(`When defining which section of a request the regex should target, only values [ "uri", "header", "body" ] are valid.`)
	},
	"OAuthResponseSanitizer": func(ctorArgs) (sanitizer, error) {
		match, _ := redact.MatchNET(`/oauth2(/v2.0)?/token`)
		return regexEntry{target: "uri", match: match}, nil
	},
	"ContinuationSanitizer": func(a ctorArgs) (sanitizer, error) {
		key, err := a.required("key")
		if err != nil {
			return nil, err
		}
		method, err := a.required("method")
		if err != nil {
			return nil, err
		}
		if method != "guid" {
			return nil, fmt.Errorf("ContinuationSanitizer: method %q is not supported; the only method is \"guid\"", method)
		}
		reset, err := a.optional("resetAfterFirst", "true")
		if err != nil {
			return nil, err
		}
		r, err := strconv.ParseBool(reset)
		if err != nil {
			return nil, fmt.Errorf("ContinuationSanitizer: resetAfterFirst must be \"true\" or \"false\", not %q", reset)
		}
		return continuation{key: key, resetAfterFirst: r}, nil
	},
}

// regexKind is a sanitizer of value, regex, groupForReplace and condition.
func regexKind(kind string, parts redact.Part, defaultRegex string) func(ctorArgs) (sanitizer, error) {
	return regexKindWith(kind, parts, defaultRegex, func(*redact.Sanitizer) {})
}

func regexKindWith(kind string, parts redact.Part, defaultRegex string, set func(*redact.Sanitizer)) func(ctorArgs) (sanitizer, error) {
	return func(a ctorArgs) (sanitizer, error) {
		s := redact.Sanitizer{Kind: kind, Parts: parts, FirstValue: parts&redact.PartHeaders != 0}
		var err error
		if s.Value, err = a.optional("value", redact.SanitizedValue); err != nil {
			return nil, err
		}
		if s.Regex, err = a.optional("regex", defaultRegex); err != nil {
			return nil, err
		}
		if s.Group, err = a.optional("groupForReplace", ""); err != nil {
			return nil, err
		}
		if s.Condition, err = a.condition(); err != nil {
			return nil, err
		}
		set(&s)
		return newEntrySanitizer(s)
	}
}

// stringKind is a sanitizer of a literal target (and a header key, for headers).
func stringKind(kind string, parts redact.Part, withKey bool) func(ctorArgs) (sanitizer, error) {
	return func(a ctorArgs) (sanitizer, error) {
		s := redact.Sanitizer{Kind: kind, Parts: parts, FirstValue: parts&redact.PartHeaders != 0}
		var err error
		if withKey {
			if s.Header, err = a.required("key"); err != nil {
				return nil, err
			}
		}
		if s.Literal, err = a.required("target"); err != nil {
			return nil, err
		}
		if s.Value, err = a.optional("value", redact.SanitizedValue); err != nil {
			return nil, err
		}
		if s.Condition, err = a.condition(); err != nil {
			return nil, err
		}
		return newEntrySanitizer(s)
	}
}

func newEntrySanitizer(s redact.Sanitizer) (sanitizer, error) {
	r, err := redact.NewSanitizerRule(s)
	if err != nil {
		return nil, err
	}
	return entrySanitizer{r}, nil
}

// newSanitizer builds the class a harness named, from its arguments.
func newSanitizer(kind string, a ctorArgs) (sanitizer, error) {
	build, ok := sanitizerKinds[kind]
	if !ok {
		return nil, fmt.Errorf("Requested type Azure.Sdk.Tools.TestProxy.Sanitizers.%s is not recognized.", kind)
	}
	return build(a)
}

// regexEntry drops from a recording every exchange whose request URI, first value of any request
// header, or text request body matches (RegexEntrySanitizer; OAuthResponseSanitizer on token URIs).
type regexEntry struct {
	target string
	match  func(string) bool
}

func (r regexEntry) entry(it *cassette.Interaction, o redact.SanitizeOptions) {
	baseEntry.Sanitize(it, o)
}

func (r regexEntry) recording(its []*cassette.Interaction, _ redact.SanitizeOptions) []*cassette.Interaction {
	kept := its[:0]
	for _, it := range its {
		if !r.matches(&it.Request) {
			kept = append(kept, it)
		}
	}
	return kept
}

func (r regexEntry) matches(req *cassette.Request) bool {
	switch r.target {
	case "uri":
		return r.match(req.URL)
	case "header":
		for _, vals := range req.Headers {
			if len(vals) > 0 && r.match(vals[0]) {
				return true
			}
		}
		return false
	}
	return testproxyjson.IsText(req.Headers) && r.match(req.Body)
}

// continuation gives a header value that a response issues and the next request carries a fresh
// GUID on both sides (ContinuationSanitizer).
type continuation struct {
	key             string
	resetAfterFirst bool
}

func (c continuation) entry(it *cassette.Interaction, o redact.SanitizeOptions) {
	baseEntry.Sanitize(it, o)
}

func (c continuation) recording(its []*cassette.Interaction, _ redact.SanitizeOptions) []*cassette.Interaction {
	value := ""
	for _, it := range its {
		if value == "" && hasHeader(it.Response.Headers, c.key) {
			value = newID()
			setHeader(it.Response.Headers, c.key, value)
			continue
		}
		if value != "" && hasHeader(it.Request.Headers, c.key) {
			setHeader(it.Request.Headers, c.key, value)
			if c.resetAfterFirst {
				value = ""
			}
		}
	}
	return its
}

func hasHeader(h http.Header, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// setHeader replaces a header's values, keeping the spelling of its name in the recording.
func setHeader(h http.Header, name, value string) {
	for k := range h {
		if strings.EqualFold(k, name) {
			h[k] = []string{value}
			return
		}
	}
	h[name] = []string{value}
}
