package acmetest_test

import (
	"fmt"
	"slices"
	"time"

	"github.com/nats-autotls/autotls/internal/acmetest"
)

func ExampleDefaultProfiles() {
	profiles := acmetest.DefaultProfiles()
	names := make([]string, 0, len(profiles))
	for name := range profiles {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Println(name, profiles[name].Validity.Round(time.Hour))
	}
	// Output:
	// default 2160h0m0s
	// shortlived 160h0m0s
	// tlsserver 1080h0m0s
}

func ExampleSharedDNS() {
	srv, err := acmetest.SharedDNS()
	if err != nil {
		panic(err)
	}
	// The same server for every CA of the test binary: point lego at it
	// once, with dns01.AddRecursiveNameservers([]string{srv.Addr()}).
	again, _ := acmetest.SharedDNS()
	fmt.Println(srv == again)
	// Output:
	// true
}
