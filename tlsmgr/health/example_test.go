package health_test

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/health"
)

// A /healthz decision for a Manager serving the client listener.
func Example() {
	m, err := tlsmgr.New(tlsmgr.Config{Storage: tlsmgr.NewMemoryStorage()})
	if err != nil {
		panic(err)
	}
	if err := m.Start(context.Background()); err != nil {
		panic(err)
	}
	defer m.Close()

	targets := []health.Target{{Name: "client", Role: tlsmgr.RoleClient}}
	rep := health.Check(m, targets, time.Now(), health.DefaultMargin)
	fmt.Println("healthy:", rep.Healthy)

	// Seven days on, the private CA's 7-day certificate is inside the margin.
	rep = health.Check(m, targets, time.Now().Add(7*24*time.Hour-time.Hour), health.DefaultMargin)
	fmt.Println("healthy:", rep.Healthy)
	// Output:
	// healthy: true
	// healthy: false
}
