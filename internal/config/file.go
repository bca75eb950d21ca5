package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nats-io/nats-server/v2/conf"
	"github.com/nats-io/nats-server/v2/server"
)

// BlockName is the top-level block of nats.conf that holds the autotls
// configuration.
const BlockName = "autotls"

// fromFile reads the autotls block of the configuration file with
// nats-server's own parser, so that includes, variables and $ENV
// references work and every value keeps its file and line. It also checks
// the rest of the file strictly (see checkNATS).
func fromFile(path string, read readFunc) ([]assignment, error) {
	if path == "" {
		return nil, nil
	}
	if err := checkNATS(path); err != nil {
		return nil, err
	}
	tree, err := conf.ParseFileWithChecks(path)
	if err != nil {
		return nil, err
	}
	raw, ok := tree[BlockName]
	if !ok {
		return nil, nil
	}
	v, pos := unwrap(raw)
	block, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Source: pos, Field: "", Problem: "is " + typeName(v) + ", not a block", Fix: "write autotls { ... }"}
	}
	w := fileWalker{read: read}
	if err := w.block("", block); err != nil {
		return nil, err
	}
	return w.out, nil
}

// fileWalker collects the assignments of the autotls block.
type fileWalker struct {
	read readFunc
	out  []assignment
}

// subBlocks are the nested blocks of the autotls block.
func subBlocks() []string { return []string{"acme", "acme.eab", "dns", "ca", "kv"} }

// block walks one block whose keys are under prefix ("" or "acme.").
func (w *fileWalker) block(prefix string, m map[string]any) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		key := prefix + strings.ToLower(k)
		v, pos := unwrap(m[k])
		if err := w.entry(key, v, pos); err != nil {
			return err
		}
	}
	return nil
}

func (w *fileWalker) entry(key string, v any, pos string) error {
	switch {
	case slices.Contains(subBlocks(), key):
		sub, ok := v.(map[string]any)
		if !ok {
			return &Error{Source: pos, Field: key, Problem: "is " + typeName(v) + ", not a block", Fix: "write " + lastPart(key) + " { ... }"}
		}
		return w.block(key+".", sub)
	case key == "dns.settings":
		return w.settings(v, pos)
	case key == "roles":
		return w.roles(v, pos)
	}
	if s, ok := lookupSetting(key); ok {
		val, err := parseTree(s.kind, v)
		if err != nil {
			return &Error{Source: pos, Field: key, Problem: err.Error(), Fix: "give " + s.kind.String()}
		}
		w.out = append(w.out, assignment{key: key, value: val, source: pos})
		return nil
	}
	if base, ok := strings.CutSuffix(key, "_file"); ok {
		if s, ok := lookupSetting(base); ok && s.secret {
			a, err := secretFromFile(w.read, base, v, pos)
			if err != nil {
				return err
			}
			w.out = append(w.out, a)
			return nil
		}
	}
	return &Error{Source: pos, Field: key, Problem: "unknown setting", Fix: "use one of " + strings.Join(knownKeys(key), ", ")}
}

// settings walks dns.settings { key: value, key_file: path }.
func (w *fileWalker) settings(v any, pos string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return &Error{Source: pos, Field: "dns.settings", Problem: "is " + typeName(v) + ", not a block", Fix: "write settings { api_token_file: /path }"}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		val, p := unwrap(m[k])
		key := "dns.settings." + strings.ToLower(k)
		if base, ok := strings.CutSuffix(key, "_file"); ok {
			a, err := secretFromFile(w.read, base, val, p)
			if err != nil {
				return err
			}
			w.out = append(w.out, a)
			continue
		}
		s, err := parseTree(kString, scalarText(val))
		if err != nil {
			return &Error{Source: p, Field: key, Problem: err.Error(), Fix: "give a string"}
		}
		w.out = append(w.out, assignment{key: key, value: s, source: p})
	}
	return nil
}

// scalarText lets numbers and booleans stand for their text in provider
// settings (a port, a flag), as lego's environment variables would.
func scalarText(v any) any {
	switch v := v.(type) {
	case int64, float64, bool:
		return fmt.Sprint(v)
	}
	return v
}

// roles walks roles { client { names: [...] } ... }.
func (w *fileWalker) roles(v any, pos string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return &Error{Source: pos, Field: "roles", Problem: "is " + typeName(v) + ", not a block", Fix: "write roles { websocket { names: [...] } }"}
	}
	for _, role := range slices.Sorted(maps.Keys(m)) {
		rv, rpos := unwrap(m[role])
		name := strings.ToLower(role)
		if !slices.Contains(roleNames(), name) {
			return &Error{Source: rpos, Field: "roles." + role, Problem: "unknown role", Fix: "use one of " + strings.Join(roleNames(), ", ")}
		}
		rm, ok := rv.(map[string]any)
		if !ok {
			return &Error{Source: rpos, Field: "roles." + name, Problem: "is " + typeName(rv) + ", not a block", Fix: "write " + name + " { names: [...] }"}
		}
		for _, k := range slices.Sorted(maps.Keys(rm)) {
			val, p := unwrap(rm[k])
			key := "roles." + name + "." + strings.ToLower(k)
			kd := kList
			switch strings.ToLower(k) {
			case "names":
			case "key_type":
				kd = kString
			default:
				return &Error{Source: p, Field: key, Problem: "unknown setting", Fix: "a role takes names and key_type"}
			}
			v, err := parseTree(kd, val)
			if err != nil {
				return &Error{Source: p, Field: key, Problem: err.Error(), Fix: "give " + kd.String()}
			}
			w.out = append(w.out, assignment{key: key, value: v, source: p})
		}
	}
	return nil
}

// knownKeys lists the keys accepted next to key.
func knownKeys(key string) []string {
	prefix := ""
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		prefix = key[:i+1]
	}
	var out []string
	for _, s := range settings() {
		if rest, ok := strings.CutPrefix(s.key, prefix); ok && !strings.Contains(rest, ".") {
			out = append(out, rest)
			if s.secret {
				out = append(out, rest+"_file")
			}
		}
	}
	for _, b := range append(subBlocks(), "dns.settings", "roles") {
		if rest, ok := strings.CutPrefix(b, prefix); ok && !strings.Contains(rest, ".") {
			out = append(out, rest+" {}")
		}
	}
	slices.Sort(out)
	return out
}

func lastPart(key string) string { return key[strings.LastIndexByte(key, '.')+1:] }

// checkNATS processes the configuration file as nats-server does, with
// unknown top-level fields reported, and returns its errors except the one
// for the autotls block itself.
//
// nats-server keeps "report unknown top-level fields" in a process-wide
// switch (server.NoErrOnUnknownFields). The binary turns the report off so
// that nats-server accepts the autotls block; checkNATS turns it on for
// its own pass and off again, so that a misspelt top-level field is still
// an error. Only the binary's configuration loading may run it, one call
// at a time.
func checkNATS(path string) error {
	server.NoErrOnUnknownFields(false)
	defer server.NoErrOnUnknownFields(true)
	err := (&server.Options{}).ProcessConfigFile(path)
	if err == nil {
		return nil
	}
	var pe interface{ Errors() []error }
	if !errors.As(err, &pe) {
		return err
	}
	var left []error
	for _, e := range pe.Errors() {
		if !strings.HasSuffix(e.Error(), fmt.Sprintf("unknown field %q", BlockName)) {
			left = append(left, e)
		}
	}
	return errors.Join(left...)
}

// ProcessNATSString processes a NATS configuration given as text (JSON is
// valid NATS configuration), with unknown fields reported as errors, and
// returns nats-server's options. Warnings alone are not an error. Like
// Load, it is for the binary only, one call at a time.
func ProcessNATSString(data string) (*server.Options, error) {
	server.NoErrOnUnknownFields(false)
	defer server.NoErrOnUnknownFields(true)
	o := &server.Options{}
	err := o.ProcessConfigString(data)
	var pe interface{ Errors() []error }
	if errors.As(err, &pe) && len(pe.Errors()) == 0 {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}
