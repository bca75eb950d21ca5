// Package confpos finds where a setting is written in a nats-server
// configuration file, so that an error about an option parsed from it can
// name the file and line.
//
// The file is parsed with nats-server's own parser
// (conf.ParseFileWithChecks), so includes, variables and the key aliases
// nats-server accepts ("leaf" for "leafnodes", "ws" for "websocket", ...)
// are followed:
//
//	pos, ok := confpos.Find("/etc/nats/nats.conf", "leafnodes.remotes[0].tls.insecure")
//	// pos.String() == "/etc/nats/nats.conf:14"
//
// [Annotate] puts the position in front of every *natsopts.ConfigError
// that names a nats.conf path.
package confpos

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats-server/v2/conf"

	"github.com/nats-autotls/autotls/natsopts"
)

// A Position is a line in a configuration file.
type Position struct {
	File string
	Line int
}

// String returns "file:line".
func (p Position) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// token is what conf.ParseFileWithChecks wraps every value in.
type token interface {
	Value() any
	Line() int
	SourceFile() string
}

// aliases lists, per key of a path, the other spellings nats-server
// accepts for it.
var aliases = map[string][]string{
	"leafnodes":       {"leaf"},
	"websocket":       {"ws"},
	"advertise":       {"cluster_advertise", "leafnode_advertise"},
	"urls":            {"url"},
	"handshake_first": {"first", "immediate"},
}

// Find returns where the setting at path is written in file. path is a
// dotted list of keys, each optionally followed by [i] for the i-th entry
// of a list, such as "gateway.gateways[1].tls". If the last keys are not
// written (a default applies), Find returns the position of the deepest
// key that is, with exact false; ok is false if the file cannot be parsed
// or not even the first key is written.
func Find(file, path string) (pos Position, exact, ok bool) {
	m, err := conf.ParseFileWithChecks(file)
	if err != nil {
		return Position{}, false, false
	}
	var cur any = m
	parts := strings.Split(path, ".")
	for i, part := range parts {
		key, index, hasIndex := splitIndex(part)
		v, found := lookup(cur, key)
		if !found {
			return pos, false, i > 0
		}
		pos = position(v, file)
		cur = value(v)
		if hasIndex {
			list, isList := cur.([]any)
			if !isList || index >= len(list) {
				return pos, false, true
			}
			pos = position(list[index], file)
			cur = value(list[index])
		}
	}
	return pos, true, true
}

// splitIndex splits "remotes[2]" into "remotes", 2, true.
func splitIndex(part string) (key string, index int, ok bool) {
	open := strings.IndexByte(part, '[')
	if open < 0 || !strings.HasSuffix(part, "]") {
		return part, 0, false
	}
	n, err := strconv.Atoi(part[open+1 : len(part)-1])
	if err != nil {
		return part, 0, false
	}
	return part[:open], n, true
}

// lookup finds key (or an alias) in a map, case-insensitively as
// nats-server does.
func lookup(cur any, key string) (any, bool) {
	m, isMap := cur.(map[string]any)
	if !isMap {
		return nil, false
	}
	for _, k := range append([]string{key}, aliases[key]...) {
		for mk, v := range m {
			if strings.EqualFold(mk, k) {
				return v, true
			}
		}
	}
	return nil, false
}

// value unwraps a token.
func value(v any) any {
	if t, isToken := v.(token); isToken {
		return t.Value()
	}
	return v
}

// position returns where a token is, its file defaulting to file.
func position(v any, file string) Position {
	t, isToken := v.(token)
	if !isToken {
		return Position{File: file}
	}
	p := Position{File: t.SourceFile(), Line: t.Line()}
	if p.File == "" {
		p.File = file
	}
	return p
}

// A LocatedError is an error about a setting of a configuration file, with
// where the setting is written.
type LocatedError struct {
	Pos Position
	// Setting is the nats.conf path of the setting, such as
	// "tls.verify_and_map".
	Setting string
	// Written is false if the setting is not in the file (a default) and
	// Pos is the enclosing block.
	Written bool
	Err     error
}

// Error reads "file:line: setting: error".
func (e *LocatedError) Error() string {
	if e.Written {
		return fmt.Sprintf("%s: %s: %v", e.Pos, e.Setting, e.Err)
	}
	return fmt.Sprintf("%s: %s (not set in this block): %v", e.Pos, e.Setting, e.Err)
}

// Unwrap returns the error.
func (e *LocatedError) Unwrap() error { return e.Err }

// Annotate returns err with every *natsopts.ConfigError in it (alone or
// joined with errors.Join) that names a nats.conf path wrapped in a
// *LocatedError for file. Other errors, and all of err if file is empty,
// are returned as they are.
func Annotate(err error, file string) error {
	if err == nil || file == "" {
		return err
	}
	if joined, isJoined := err.(interface{ Unwrap() []error }); isJoined {
		errs := joined.Unwrap()
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = Annotate(e, file)
		}
		return errors.Join(out...)
	}
	var ce *natsopts.ConfigError
	if !errors.As(err, &ce) || ce.Conf == "" {
		return err
	}
	pos, exact, ok := Find(file, ce.Conf)
	if !ok {
		return err
	}
	return &LocatedError{Pos: pos, Setting: ce.Conf, Written: exact, Err: err}
}
