package acme

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-autotls/autotls/internal/atomicfile"
)

// Storage keeps the ACME account. Keys are slash-separated paths such as
// "acme/acme-v02.api.letsencrypt.org-directory/default/account.json". A
// tlsmgr.Storage satisfies it.
//
// Implementations must be safe for concurrent use.
type Storage interface {
	// Load returns the value at key, or an error matching
	// [io/fs.ErrNotExist] if there is none.
	Load(ctx context.Context, key string) ([]byte, error)
	// Store writes value at key atomically.
	Store(ctx context.Context, key string, value []byte) error
}

// DirStorage returns a [Storage] keeping each key in a file under dir:
// files are written atomically with mode 0600, directories created with
// mode 0700. It is safe for concurrent use.
func DirStorage(dir string) Storage { return dirStorage{dir: dir} }

type dirStorage struct{ dir string }

// path maps key to a file under the directory, refusing keys that would
// escape it.
func (d dirStorage) path(key string) (string, error) {
	if key == "" || !fs.ValidPath(key) || strings.Contains(key, `\`) {
		return "", fmt.Errorf("acme: storage: invalid key %q: use a relative slash-separated path without . or .. elements", key)
	}
	return filepath.Join(d.dir, filepath.FromSlash(key)), nil
}

func (d dirStorage) Load(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("acme: storage: load %s: %w", key, err)
	}
	return b, nil
}

func (d dirStorage) Store(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(p, value, 0o600); err != nil {
		return fmt.Errorf("acme: storage: store %s: %w", key, err)
	}
	return nil
}
