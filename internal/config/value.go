package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// tokenValue is nats-server's parser's token (conf.ParseFileWithChecks):
// a value with its position.
type tokenValue interface {
	Value() any
	Line() int
	Position() int
	SourceFile() string
}

// unwrap returns a tree value without its token, and its position.
func unwrap(v any) (any, string) {
	if t, ok := v.(tokenValue); ok {
		return t.Value(), fmt.Sprintf("%s:%d:%d", t.SourceFile(), t.Line(), t.Position())
	}
	return v, ""
}

// parseText parses a value given as text (an environment variable or a
// flag) as kind k.
func parseText(k kind, s string) (any, error) {
	switch k {
	case kBool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("not %s", k)
		}
		return b, nil
	case kList:
		return SplitList(s), nil
	case kDuration:
		return parseDuration(s)
	}
	return s, nil
}

// parseTree converts a value of the configuration tree to kind k.
func parseTree(k kind, v any) (any, error) {
	switch k {
	case kString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case kBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case kList:
		switch v := v.(type) {
		case string:
			return SplitList(v), nil
		case []any:
			out := make([]string, 0, len(v))
			for _, e := range v {
				e, _ = unwrap(e)
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("element %v is %s, not a string", e, typeName(e))
				}
				out = append(out, s)
			}
			return out, nil
		}
	case kDuration:
		switch v := v.(type) {
		case string:
			return parseDuration(v)
		case int64:
			return parseDuration(strconv.FormatInt(v, 10))
		}
	}
	return nil, fmt.Errorf("is %s, not %s", typeName(v), k)
}

// parseDuration accepts a Go duration ("30s") or a number of seconds.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("not %s", kDuration)
	}
	return d, nil
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "a block"
	}
	return fmt.Sprintf("%T", v)
}

// SplitList splits a comma-separated value (a flag, a variable), dropping
// blanks.
func SplitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}
