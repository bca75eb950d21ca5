package kvstorage

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// encodeKey maps a valid tlsmgr key to a KV key: each slash-separated
// segment becomes one subject token, with every byte outside
// [A-Za-z0-9_-] written as "=XX" (upper-case hex), '.' and '=' included.
// "certificates/ca/nats.example.com.json" becomes
// "certificates.ca.nats=2Eexample=2Ecom=2Ejson", so that the subject
// wildcard "certificates.>" selects everything under "certificates".
func encodeKey(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c == '/':
			b.WriteByte('.')
		case plain(c):
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

// plain reports whether c stands for itself in an encoded key.
func plain(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// decodeKey inverts encodeKey. It fails on a KV key that encodeKey cannot
// have written (a foreign key in the bucket).
func decodeKey(enc string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(enc); i++ {
		switch c := enc[i]; {
		case c == '.':
			b.WriteByte('/')
		case plain(c):
			b.WriteByte(c)
		case c == '=' && i+2 < len(enc) && isUpperHex(enc[i+1]) && isUpperHex(enc[i+2]):
			v, _ := strconv.ParseUint(enc[i+1:i+3], 16, 8)
			if plain(byte(v)) || v == '/' {
				return "", fmt.Errorf("kvstorage: KV key %q: %q needs no escape", enc, enc[i:i+3])
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			return "", fmt.Errorf("kvstorage: KV key %q: not written by kvstorage", enc)
		}
	}
	key := b.String()
	if err := tlsmgr.CheckKey(key); err != nil {
		return "", fmt.Errorf("kvstorage: KV key %q: %w", enc, err)
	}
	return key, nil
}

// isUpperHex reports whether c is a hex digit as encodeKey writes them.
func isUpperHex(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'F'
}

// MaxKeyLen is the longest key, or lock name, that Storage accepts, in
// bytes once encoded for the bucket (each byte outside [A-Za-z0-9_-/]
// counts three). The subjects JetStream builds from a key must fit in the
// 4 KB protocol line of nats-server: a longer one makes the server close
// the connection for good, whatever the client's reconnect settings. So
// longer keys are refused before they reach it.
const MaxKeyLen = 3000

// KeyTooLongError reports a key or lock name whose encoded form exceeds
// [MaxKeyLen].
type KeyTooLongError struct {
	Key     string // the key as given
	Encoded int    // its length in the bucket
}

// Error names the key's start, both lengths and the fix.
func (e *KeyTooLongError) Error() string {
	k := e.Key
	if len(k) > 64 {
		k = k[:64] + "..."
	}
	return fmt.Sprintf("kvstorage: key %q (%d bytes) is %d bytes once encoded for the bucket, over the limit of %d "+
		"(nats-server drops a connection whose subjects exceed 4 KB): use shorter names or issuer keys",
		k, len(e.Key), e.Encoded, MaxKeyLen)
}

// checkedKey validates key as tlsmgr does, encodes it and refuses it if
// the bucket cannot hold it.
func checkedKey(key string) (string, error) {
	if err := tlsmgr.CheckKey(key); err != nil {
		return "", err
	}
	enc := encodeKey(key)
	if len(enc) > MaxKeyLen {
		return "", &KeyTooLongError{Key: key, Encoded: len(enc)}
	}
	return enc, nil
}
