package tlsmgr_test

import (
	"testing"

	"github.com/nats-autotls/autotls/tlsmgr"
)

func TestMemoryStorage(t *testing.T) {
	runStorageSuite(t, func(*testing.T) (tlsmgr.Storage, tlsmgr.Storage) {
		s := tlsmgr.NewMemoryStorage()
		return s, s
	})
}
