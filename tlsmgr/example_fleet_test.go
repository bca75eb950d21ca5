package tlsmgr_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// Two hosts of a fleet share a volume; each keeps a local cache. A renewal
// made by one is served by the other at its next storage check (at once
// with a Storage that is a Watcher, such as kvstorage's bucket).
func ExampleConfig_fleet() {
	dir, err := os.MkdirTemp("", "autotls-fleet-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var hosts [2]*tlsmgr.Manager
	for i := range hosts {
		m, err := tlsmgr.New(tlsmgr.Config{
			Names:                []string{"nats.example.com"},
			Storage:              tlsmgr.NewFileStorage(filepath.Join(dir, "shared")),
			Cache:                tlsmgr.NewFileStorage(filepath.Join(dir, fmt.Sprintf("cache%d", i))),
			StorageCheckInterval: 100 * time.Millisecond,
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer m.Close()
		if err := m.Start(ctx); err != nil {
			fmt.Println(err)
			return
		}
		hosts[i] = m
	}
	_, replaced, _ := hosts[1].Current(tlsmgr.RoleClient)
	if err := hosts[0].Renew(ctx, tlsmgr.RoleClient); err != nil {
		fmt.Println(err)
		return
	}
	select {
	case <-replaced:
	case <-ctx.Done():
		fmt.Println("not pushed")
		return
	}
	a, _, _ := hosts[0].Current(tlsmgr.RoleClient)
	b, _, _ := hosts[1].Current(tlsmgr.RoleClient)
	fmt.Println("both serve the renewal:", a.Leaf.SerialNumber.Cmp(b.Leaf.SerialNumber) == 0)
	// Output:
	// both serve the renewal: true
}
