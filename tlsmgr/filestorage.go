package tlsmgr

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-autotls/autotls/internal/atomicfile"
)

// DefaultLockLease is the lease of a [FileStorage] lock when
// [WithLockLease] is not given.
const DefaultLockLease = 10 * time.Second

// FileStorage is the default [Storage]: a directory tree in which each key
// is a file, its slash-separated segments being directories. Create it with
// [NewFileStorage]; the zero value is not usable.
//
// # Durability and permissions
//
// Store writes a temporary file, syncs it, renames it over the key and
// syncs the directory, so a reader or a crash sees the old value or the new
// one, never a part. The Manager keeps each certificate together with its
// private key in one value, so no crash can leave a certificate without its
// key. Every file FileStorage writes (certificates, keys, ACME accounts,
// locks) has mode 0600 and every directory it creates has mode 0700,
// whatever the umask. A directory that already exists keeps its mode.
//
// # Keys
//
// A key is a relative slash-separated path; keys that are empty, absolute,
// or have an empty, "." or ".." segment are rejected with an
// [*InvalidKeyError]. A key that is a value cannot hold other keys. Delete
// of a directory removes it with everything below it; deleting the last key
// of a directory leaves the directory, which List then reports as empty.
//
// # Locks
//
// Lock creates locks/<name>.lock exclusively (O_EXCL) with a JSON record of
// its holder (process id and a random part), creation and expiry time, and
// renews the expiry every lease/3 while held, from a goroutine that
// [FileStorage.Unlock] stops. A waiter polls every lease/10 (at least 50
// ms); a lock is stale, left by a holder that died, when its expiry is
// more than lease/10 past, when its expiry is further ahead than a lease
// and lease/10 (no live holder writes that: the dead holder's clock was
// fast, or ours stepped back), or when its holder was a process on this
// host (same boot and PID namespace) that no longer runs. The first waiter
// to see a stale lock removes it and competes for it again. So a dead
// holder's lock is taken over at once on its own host and within about
// 1.2 leases elsewhere (at most 3 leases, the documented bound). A waiter
// logs, when it starts waiting and then every lease, who holds the lock
// (holder, host) and until when. Locks exclude each other across processes
// and across FileStorage values in one process that share the directory.
// Clocks of hosts sharing a directory must agree to well within the grace
// of lease/10.
//
// FileStorage is safe for concurrent use.
type FileStorage struct {
	dir   string
	lease time.Duration
	log   *slog.Logger
	self  processID // this process, recorded in the lock files it writes

	// mu guards held.
	mu sync.Mutex
	// held maps each lock name this FileStorage holds to its renewer.
	held map[string]*heldLock
}

// FileStorageOption changes a default of [NewFileStorage].
type FileStorageOption func(*FileStorage)

// WithLockLease sets the lease of the locks a [FileStorage] takes: how long
// a lock outlives a holder that died. Zero or negative means
// [DefaultLockLease].
func WithLockLease(d time.Duration) FileStorageOption {
	return func(s *FileStorage) {
		if d > 0 {
			s.lease = d
		}
	}
}

// WithStorageLogger sets the logger of a [FileStorage] (lock waits,
// takeovers and renewal failures). Nil means discard.
func WithStorageLogger(l *slog.Logger) FileStorageOption {
	return func(s *FileStorage) {
		if l != nil {
			s.log = l
		}
	}
}

// NewFileStorage returns a FileStorage rooted at dir, which is created
// (mode 0700) on the first write. It does no I/O; an empty dir makes every
// operation fail.
func NewFileStorage(dir string, opts ...FileStorageOption) *FileStorage {
	s := &FileStorage{
		dir:   dir,
		lease: DefaultLockLease,
		log:   slog.New(slog.DiscardHandler),
		held:  make(map[string]*heldLock),
		self:  currentProcess(),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

var _ Storage = (*FileStorage)(nil)

// Dir returns the directory FileStorage keeps its files in.
func (s *FileStorage) Dir() string { return s.dir }

// Load returns the value stored at key, or an error matching
// [fs.ErrNotExist].
func (s *FileStorage) Load(ctx context.Context, key string) ([]byte, error) {
	name, err := s.path(ctx, "load", key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("tlsmgr: file storage: load %q: %w", key, err)
	}
	return b, nil
}

// Store writes value at key atomically with mode 0600, creating missing
// directories with mode 0700.
func (s *FileStorage) Store(ctx context.Context, key string, value []byte) error {
	name, err := s.path(ctx, "store", key)
	if err != nil {
		return err
	}
	if err := s.mkdirs(filepath.Dir(name)); err != nil {
		return fmt.Errorf("tlsmgr: file storage: store %q: %w", key, err)
	}
	if err := atomicfile.WriteFile(name, value, 0o600); err != nil {
		return fmt.Errorf("tlsmgr: file storage: store %q: %w", key, err)
	}
	return nil
}

// Delete removes key and, if it is a directory, everything below it.
// Deleting a missing key is not an error.
func (s *FileStorage) Delete(ctx context.Context, key string) error {
	name, err := s.path(ctx, "delete", key)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(name); err != nil {
		return fmt.Errorf("tlsmgr: file storage: delete %q: %w", key, err)
	}
	return nil
}

// List returns, sorted, the keys directly under prefix ("" for the root),
// files and directories alike, or with recursive true every file under
// prefix at any depth. A missing prefix is reported as an error matching
// [fs.ErrNotExist], except the root, which is then empty. Temporary files of interrupted writes are skipped.
func (s *FileStorage) List(ctx context.Context, prefix string, recursive bool) ([]string, error) {
	root, err := s.prefixPath(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var keys []string
	if recursive {
		keys, err = walkFiles(root, prefix)
	} else {
		keys, err = readDirKeys(root, prefix)
	}
	if prefix == "" && errors.Is(err, fs.ErrNotExist) {
		return []string{}, nil // nothing stored yet
	}
	if err != nil {
		return nil, fmt.Errorf("tlsmgr: file storage: list %q: %w", prefix, err)
	}
	slices.Sort(keys)
	return keys, nil
}

// Stat describes key; directories have IsTerminal false and Size 0.
func (s *FileStorage) Stat(ctx context.Context, key string) (KeyInfo, error) {
	name, err := s.path(ctx, "stat", key)
	if err != nil {
		return KeyInfo{}, err
	}
	fi, err := os.Stat(name)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("tlsmgr: file storage: stat %q: %w", key, err)
	}
	info := KeyInfo{Key: key, Modified: fi.ModTime(), IsTerminal: !fi.IsDir()}
	if info.IsTerminal {
		info.Size = fi.Size()
	}
	return info, nil
}

// path checks ctx, the storage directory and key, and returns the file name
// of key.
func (s *FileStorage) path(ctx context.Context, op, key string) (string, error) {
	if err := s.checkDir(); err != nil {
		return "", fmt.Errorf("tlsmgr: file storage: %s %q: %w", op, key, err)
	}
	if err := CheckKey(key); err != nil {
		return "", fmt.Errorf("tlsmgr: file storage: %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("tlsmgr: file storage: %s %q: %w", op, key, err)
	}
	return filepath.Join(s.dir, filepath.FromSlash(key)), nil
}

// prefixPath is path for a List prefix, which may be "" (the root).
func (s *FileStorage) prefixPath(ctx context.Context, prefix string) (string, error) {
	if prefix != "" {
		return s.path(ctx, "list", prefix)
	}
	if err := s.checkDir(); err != nil {
		return "", fmt.Errorf("tlsmgr: file storage: list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("tlsmgr: file storage: list: %w", err)
	}
	return s.dir, nil
}

// checkDir reports an unusable storage directory.
func (s *FileStorage) checkDir() error {
	if s.dir == "" {
		return errors.New(`directory is empty; pass one to NewFileStorage, such as "/var/lib/nats-autotls"`)
	}
	return nil
}

// mkdirs creates dir and its missing parents with mode 0700, set
// explicitly so that the umask cannot widen or narrow it, and syncs each
// parent so that a new directory survives a crash.
func (s *FileStorage) mkdirs(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s: not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := s.mkdirs(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // created by a concurrent call
		}
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(dir))
}

// readDirKeys lists the direct children of dir as keys under prefix.
func readDirKeys(dir, prefix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(entries))
	for _, e := range entries {
		if !isTempName(e.Name()) {
			keys = append(keys, joinKey(prefix, e.Name()))
		}
	}
	return keys, nil
}

// walkFiles lists every file under root as keys under prefix.
func walkFiles(root, prefix string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(root, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == root && !d.IsDir() {
			return fmt.Errorf("%s: not a directory", root)
		}
		if d.IsDir() || isTempName(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(root, name)
		if err != nil {
			return err
		}
		keys = append(keys, joinKey(prefix, filepath.ToSlash(rel)))
		return nil
	})
	return keys, err
}

// joinKey joins a List prefix and a relative key.
func joinKey(prefix, rel string) string {
	if prefix == "" {
		return rel
	}
	return prefix + "/" + rel
}

// isTempName reports whether a file name is a temporary file of
// atomicfile.WriteFile (".<name>.tmp-<random>") left by a crash or in
// flight.
func isTempName(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-")
}
