package tlsmgr_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-autotls/autotls/tlsmgr"
)

func ExampleNewFileStorage() {
	dir, err := os.MkdirTemp("", "autotls-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s := tlsmgr.NewFileStorage(filepath.Join(dir, "state"), tlsmgr.WithLockLease(5*time.Second))

	// Serialise work on one certificate across processes sharing the directory.
	if err := s.Lock(ctx, "issue/nats.example.com"); err != nil {
		fmt.Println(err)
		return
	}
	defer s.Unlock(ctx, "issue/nats.example.com")

	key := "certificates/private-ca/nats.example.com.json"
	if err := s.Store(ctx, key, []byte(`{"chain":"...","key":"..."}`)); err != nil {
		fmt.Println(err)
		return
	}
	fi, err := os.Stat(filepath.Join(s.Dir(), filepath.FromSlash(key)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("mode on disk:", fi.Mode())
	keys, _ := s.List(ctx, "certificates", true)
	fmt.Println("keys:", keys)
	_, err = s.Load(ctx, "certificates/private-ca/other.json")
	fmt.Println("missing key is fs.ErrNotExist:", errors.Is(err, fs.ErrNotExist))
	// Output:
	// mode on disk: -rw-------
	// keys: [certificates/private-ca/nats.example.com.json]
	// missing key is fs.ErrNotExist: true
}

func ExampleNewMemoryStorage() {
	ctx := context.Background()
	s := tlsmgr.NewMemoryStorage()
	_ = s.Store(ctx, "accounts/acme/account.json", []byte(`{"email":"ops@example.com"}`))

	v, _ := s.Load(ctx, "accounts/acme/account.json")
	fmt.Println(string(v))
	info, _ := s.Stat(ctx, "accounts/acme")
	fmt.Println("directory:", !info.IsTerminal)

	_ = s.Delete(ctx, "accounts")
	_, err := s.Load(ctx, "accounts/acme/account.json")
	fmt.Println("deleted:", errors.Is(err, fs.ErrNotExist))
	// Output:
	// {"email":"ops@example.com"}
	// directory: true
	// deleted: true
}
