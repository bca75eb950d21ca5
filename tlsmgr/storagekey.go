package tlsmgr

import (
	"fmt"
	"iter"
	"strings"
)

// InvalidKeyError reports a storage key or lock name that is not a relative,
// slash-separated path inside the storage: empty, absolute, with an empty,
// "." or ".." segment, or with a backslash or NUL byte.
type InvalidKeyError struct {
	Key    string // the key as given
	Reason string // what is wrong with it
}

// Error names the key, the problem and the fix.
func (e *InvalidKeyError) Error() string {
	return fmt.Sprintf("tlsmgr: storage key %q: %s; use a relative slash-separated path such as %q",
		e.Key, e.Reason, "certificates/nats.example.com.json")
}

// CheckKey reports, as an *InvalidKeyError, whether key is not a relative
// slash-separated path that stays inside the storage root. Every Storage of
// this module applies it, and other implementations may, so that all accept
// the same keys.
func CheckKey(key string) error {
	switch {
	case key == "":
		return &InvalidKeyError{Key: key, Reason: "empty"}
	case strings.HasPrefix(key, "/"):
		return &InvalidKeyError{Key: key, Reason: "absolute"}
	case strings.ContainsAny(key, "\\\x00"):
		return &InvalidKeyError{Key: key, Reason: "contains a backslash or NUL byte"}
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return &InvalidKeyError{Key: key, Reason: "has an empty segment"}
		case ".", "..":
			return &InvalidKeyError{Key: key, Reason: fmt.Sprintf("has a %q segment", seg)}
		}
	}
	return nil
}

// CheckPrefix is CheckKey for a List prefix, which may also be "" (the
// root).
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return CheckKey(prefix)
}

// ParentKeys yields the "directories" above key, shortest first: "a" and
// "a/b" for "a/b/c". A Storage uses it to refuse a value stored under
// another value, as a file system would.
func ParentKeys(key string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := 0; i < len(key); i++ {
			if key[i] == '/' && !yield(key[:i]) {
				return
			}
		}
	}
}
