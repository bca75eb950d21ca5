package kvstorage_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

// Two Managers, as on two hosts, share certificates through one bucket:
// one of them orders, both serve the same certificate.
func ExampleNew() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// An embedded JetStream server stands in for the fleet's NATS system.
	dir, _ := os.MkdirTemp("", "kvstorage-example-")
	defer os.RemoveAll(dir)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true, JetStream: true, StoreDir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.Start()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(10 * time.Second) {
		fmt.Println("nats-server not ready")
		return
	}

	managers := make([]*tlsmgr.Manager, 2)
	for i := range managers {
		nc, err := nats.Connect(srv.ClientURL())
		if err != nil {
			fmt.Println(err)
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		storage, err := kvstorage.New(ctx, js, kvstorage.Config{})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer storage.Close()
		m, err := tlsmgr.New(tlsmgr.Config{Names: []string{"nats.example.com"}, Storage: storage})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer m.Close()
		if err := m.Start(ctx); err != nil {
			fmt.Println(err)
			return
		}
		managers[i] = m
	}

	a, _, _ := managers[0].Current(tlsmgr.RoleClient)
	b, _, _ := managers[1].Current(tlsmgr.RoleClient)
	fmt.Println("names:", a.Leaf.DNSNames)
	fmt.Println("same certificate:", a.Leaf.SerialNumber.Cmp(b.Leaf.SerialNumber) == 0)
	// Output:
	// names: [nats.example.com]
	// same certificate: true
}

// Keys are slash-separated paths; in the bucket each segment is one token,
// with '.' and other bytes outside [A-Za-z0-9_-] escaped as "=XX".
func ExampleStorage_Store() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir, _ := os.MkdirTemp("", "kvstorage-example-")
	defer os.RemoveAll(dir)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true, JetStream: true, StoreDir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.Start()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(10 * time.Second) {
		fmt.Println("nats-server not ready")
		return
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	storage, err := kvstorage.New(ctx, js, kvstorage.Config{Bucket: "certs"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer storage.Close()

	_ = storage.Store(ctx, "certificates/ca/nats.example.com.json", []byte("{}"))
	keys, _ := storage.List(ctx, "certificates", false)
	fmt.Println("List:", keys)
	kv, _ := js.KeyValue(ctx, "certs")
	raw, _ := kv.Keys(ctx)
	fmt.Println("in the bucket:", raw)
	// Output:
	// List: [certificates/ca]
	// in the bucket: [certificates.ca.nats=2Eexample=2Ecom=2Ejson]
}

// Watch reports the keys other Storages of the fleet store; a Manager uses
// it to serve a renewal made on another host within milliseconds.
func ExampleStorage_Watch() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir, _ := os.MkdirTemp("", "kvstorage-example-")
	defer os.RemoveAll(dir)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true, JetStream: true, StoreDir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.Start()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(10 * time.Second) {
		fmt.Println("nats-server not ready")
		return
	}
	var storages [2]*kvstorage.Storage
	for i := range storages {
		nc, err := nats.Connect(srv.ClientURL())
		if err != nil {
			fmt.Println(err)
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		if storages[i], err = kvstorage.New(ctx, js, kvstorage.Config{}); err != nil {
			fmt.Println(err)
			return
		}
		defer storages[i].Close()
	}
	changed, err := storages[0].Watch(ctx, "certificates")
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = storages[1].Store(ctx, "certificates/ca/nats.example.com.json", []byte("{}"))
	fmt.Println("changed:", <-changed)
	// Output:
	// changed: certificates/ca/nats.example.com.json
}
