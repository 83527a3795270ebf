package testproxy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
)

// sanitizerArgs are the JSON arguments test-proxy sanitizers take (each uses some of them).
type sanitizerArgs struct {
	Value             string `json:"value"`
	Regex             string `json:"regex"`
	GroupForReplace   string `json:"groupForReplace"`
	Key               string `json:"key"`
	JSONPath          string `json:"jsonPath"`
	Target            string `json:"target"`
	HeadersForRemoval string `json:"headersForRemoval"`
	Condition         *struct {
		URIRegex string `json:"uriRegex"`
	} `json:"condition"`
}

// sanitizerRule maps a test-proxy sanitizer onto an azvcr redaction rule.
func sanitizerRule(kind string, body []byte) (redact.Rule, error) {
	var a sanitizerArgs
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &a); err != nil {
			return nil, fmt.Errorf("%s: arguments are not JSON: %v", kind, err)
		}
	}
	if a.Value == "" {
		a.Value = "Sanitized" // test-proxy's default replacement
	}
	s := redact.Sanitizer{Name: kind, Value: a.Value, Regex: a.Regex, Group: a.GroupForReplace}
	if a.Condition != nil {
		s.IfURI = a.Condition.URIRegex
	}
	switch kind {
	case "GeneralRegexSanitizer":
		s.Where = "all"
	case "UriRegexSanitizer":
		s.Where = "uri"
	case "BodyRegexSanitizer":
		s.Where = "body"
	case "HeaderRegexSanitizer":
		s.Where, s.Header = "headers", a.Key
	case "BodyKeySanitizer":
		s.Where, s.JSONPath = "body", a.JSONPath
	case "RemoveHeaderSanitizer":
		s.Where, s.Regex, s.Remove = "headers", "", strings.Split(a.HeadersForRemoval, ",")
	case "GeneralStringSanitizer", "UriStringSanitizer", "BodyStringSanitizer", "HeaderStringSanitizer":
		s.Where = map[string]string{"GeneralStringSanitizer": "all", "UriStringSanitizer": "uri", "BodyStringSanitizer": "body", "HeaderStringSanitizer": "headers"}[kind]
		s.Regex, s.Header = regexp.QuoteMeta(a.Target), a.Key
	case "UriSubscriptionIdSanitizer":
		if a.Value == "Sanitized" {
			a.Value = redact.ZeroGUID
		}
		s.Where, s.Value, s.Regex, s.Group = "uri", a.Value, `(?i)/subscriptions/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`, "1"
	case "OAuthResponseSanitizer", "ContinuationSanitizer":
		// azvcr's entra-tokens rule already redacts token answers, and continuation tokens are
		// matched as recorded; these are accepted so harnesses that register them run unchanged.
		return noopRule(kind), nil
	default:
		return nil, fmt.Errorf("unknown sanitizer %q", kind)
	}
	return redact.NewSanitizerRule(s)
}

type noopRule string

func (n noopRule) Name() string                    { return string(n) }
func (noopRule) RedactRequest(*cassette.Request)   {}
func (noopRule) RedactResponse(*cassette.Response) {}
