package testproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/azvcr/azvcr/redact"
)

// ctorArgs are the JSON body of /Admin/AddSanitizer, /Admin/SetMatcher or /Admin/AddTransform.
// Test-proxy binds them to constructor parameters by exact, case-sensitive name: strings and
// booleans are values, null is "not given", numbers are refused, and an object is only a
// condition.
type ctorArgs map[string]json.RawMessage

// parseArgs reads a body; an empty one gives no arguments.
func parseArgs(body []byte) (ctorArgs, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return ctorArgs{}, nil
	}
	var a ctorArgs
	if err := json.Unmarshal(body, &a); err != nil || a == nil {
		return nil, fmt.Errorf("the body of this request is invalid JSON: want an object of arguments")
	}
	return a, nil
}

// get returns the argument's text; ok is false when it is absent or null.
func (a ctorArgs) get(name string) (val string, ok bool, err error) {
	raw, found := a[name]
	if !found {
		return "", false, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false, err
	}
	switch t := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return t, true, nil
	case bool:
		return fmt.Sprint(t), true, nil
	}
	return "", false, fmt.Errorf("parameter %q must be a string, not %s", name, strings.TrimSpace(string(raw)))
}

// required is an argument that must be given, and not empty.
func (a ctorArgs) required(name string) (string, error) {
	v, ok, err := a.get(name)
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "", fmt.Errorf("Required parameter key %q was not found in the request body.", name)
	case v == "":
		return "", fmt.Errorf("parameter %q must not be empty", name)
	}
	return v, nil
}

// optional is an argument with a default; only a replacement value may be given empty.
func (a ctorArgs) optional(name, def string) (string, error) {
	v, ok, err := a.get(name)
	switch {
	case err != nil:
		return "", err
	case !ok:
		return def, nil
	case v == "" && name != "value":
		return "", fmt.Errorf("parameter %q must not be empty", name)
	}
	return v, nil
}

// boolean is an optional true/false argument (true, false, "true", "false", any case).
func (a ctorArgs) boolean(name string, def bool) (bool, error) {
	v, ok, err := a.get(name)
	if err != nil || !ok {
		return def, err
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("parameter %q must be true or false, not %q", name, v)
}

// condition reads the optional "condition" object: {"uriRegex": ...} and/or
// {"ResponseHeader": {"Key": ..., "ValueRegex": ...}}, property names in any case.
func (a ctorArgs) condition() (redact.Condition, error) {
	var c redact.Condition
	raw, ok := a["condition"]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return c, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return c, fmt.Errorf("An unexpected error occured during parse of condition body. Condition Definition: %s. Exception detail: %v.", raw, err)
	}
	for k, v := range obj {
		switch strings.ToLower(k) {
		case "uriregex":
			if err := json.Unmarshal(v, &c.URIRegex); err != nil {
				return c, fmt.Errorf("condition UriRegex must be a string: %s", v)
			}
		case "responseheader":
			var h struct{ Key, ValueRegex string } // matched ignoring case, as test-proxy does
			if err := json.Unmarshal(v, &h); err != nil || h.Key == "" {
				return c, fmt.Errorf("An unexpected error occured during parse of condition body. Condition Definition: %s. Exception detail: Key is required for response header conditions.", raw)
			}
			c.ResponseHeader, c.ResponseHeaderValue = h.Key, h.ValueRegex
		}
	}
	if c.URIRegex == "" && c.ResponseHeader == "" {
		return c, fmt.Errorf("This request defined a condition. The definition of said condition is invalid. At least one trigger regex must be present. Condition Definition: %s.", raw)
	}
	return c, nil
}

// listing is the arguments as given, for GetSanitizers and /Info/Active.
func (a ctorArgs) listing() map[string]any {
	out := map[string]any{}
	for k, raw := range a {
		var v any
		if json.Unmarshal(raw, &v) == nil && v != nil {
			out[k] = v
		}
	}
	return out
}
