//go:build unix

package bench_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nats-autotls/autotls/internal/bench"
)

// Run one section with tiny loads and print its table; the full command is
// internal/cmd/bench.
func ExampleRun() {
	rep, err := bench.Run(context.Background(), bench.Config{Short: true, Sections: []string{"7"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = rep.WriteText(os.Stdout)
	for _, t := range rep.Targets {
		if t.Name == "Renew storage cost" {
			fmt.Println(t.Name, "met:", t.Met)
		}
	}
}
