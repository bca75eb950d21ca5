package acmetest

import (
	"os"
	"strconv"
	"sync"
)

// envMu serialises constructions of Pebble components: Pebble reads its
// knobs from environment variables inside va.New and wfe.New, so New sets
// them, constructs, and restores them while holding envMu.
var envMu sync.Mutex

// pebbleEnv returns the environment Pebble's constructors must see.
func pebbleEnv(o Options) map[string]string {
	return map[string]string{
		"PEBBLE_VA_NOSLEEP":      "1",
		"PEBBLE_VA_ALWAYS_VALID": "0",
		"PEBBLE_AUTHZREUSE":      "0",
		"PEBBLE_WFE_NONCEREJECT": strconv.Itoa(o.NonceRejectPercent),
	}
}

// withEnv runs fn with the variables of env set, then restores them.
func withEnv(env map[string]string, fn func()) {
	envMu.Lock()
	defer envMu.Unlock()
	for k, v := range env {
		old, had := os.LookupEnv(k)
		_ = os.Setenv(k, v)
		defer func() {
			if had {
				_ = os.Setenv(k, old)
			} else {
				_ = os.Unsetenv(k)
			}
		}()
	}
	fn()
}
