package tlsmgr_test

import (
	"testing"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/storagetest"
)

func TestMemoryStorage(t *testing.T) {
	storagetest.Run(t, func(*testing.T) (tlsmgr.Storage, tlsmgr.Storage) {
		s := tlsmgr.NewMemoryStorage()
		return s, s
	})
}
