package natslog

import (
	"context"
	"encoding"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// handler is the slog.Handler of a Log. In JSON mode it hands records to a
// JSON handler derived from the Log's; in text mode it renders the
// record's fields as " key=value" after the message.
type handler struct {
	l      *Log
	json   slog.Handler // JSON mode; nil in text mode
	pre    []byte       // text mode: fields from WithAttrs, rendered
	prefix string       // text mode: "group." prefix from WithGroup
}

func (h *handler) Enabled(_ context.Context, level slog.Level) bool {
	return h.l.st.Load().enabled(level)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	if h.json != nil {
		return h.l.handleJSON(ctx, h.json, r)
	}
	b := slices.Clone(h.pre)
	r.Attrs(func(a slog.Attr) bool {
		b = appendAttr(b, h.prefix, a)
		return true
	})
	h.l.writeText(h.l.st.Load(), r.Level, r.Time, r.Message, b)
	return nil
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	if h.json != nil {
		c.json = h.json.WithAttrs(attrs)
		return &c
	}
	c.pre = slices.Clone(h.pre)
	for _, a := range attrs {
		c.pre = appendAttr(c.pre, h.prefix, a)
	}
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	if h.json != nil {
		c.json = h.json.WithGroup(name)
		return &c
	}
	c.prefix = h.prefix + name + "."
	return &c
}

// appendAttr renders a as " key=value", a group as its members with
// "group." before their keys, as slog's text handler does.
func appendAttr(b []byte, prefix string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return b
	}
	if a.Value.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, m := range a.Value.Group() {
			b = appendAttr(b, prefix, m)
		}
		return b
	}
	b = append(b, ' ')
	b = appendString(b, prefix+a.Key)
	b = append(b, '=')
	return appendString(b, valueString(a.Value))
}

// valueString is how a field's value reads in a text line.
func valueString(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return x.Error()
		case encoding.TextMarshaler:
			if t, err := x.MarshalText(); err == nil {
				return string(t)
			}
		case []byte:
			return strconv.Quote(string(x))
		}
		return fmt.Sprint(v.Any())
	}
	return v.String()
}

// appendString appends s, quoted if it is empty or holds spaces, quotes,
// '=' or characters that are not printable.
func appendString(b []byte, s string) []byte {
	if needsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r == '=' || r == '"' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
