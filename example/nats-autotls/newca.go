package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// writeNewCA generates a private CA for the nodes of a cluster to share and
// writes it to prefix.pem and prefix.key. It never overwrites a file.
func writeNewCA(prefix string, out io.Writer) error {
	certPath, keyPath := prefix+".pem", prefix+".key"
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("-autotls_new_ca: %s exists: choose another prefix or remove it (a CA in use is never overwritten)", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("-autotls_new_ca: %w", err)
		}
	}
	certPEM, keyPEM, err := privateca.Generate(privateca.DefaultName, privateca.DefaultCALifetime)
	if err != nil {
		return err
	}
	if err := writeExclusive(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeExclusive(certPath, certPEM, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "private CA written: %s (certificate), %s (key, keep it secret)\n"+
		"start each node with -autotls_ca_cert %s -autotls_ca_key %s\n", certPath, keyPath, certPath, keyPath)
	return nil
}

// writeExclusive creates name with mode and data, failing if it exists.
func writeExclusive(name string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("-autotls_new_ca: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(name)
		return fmt.Errorf("-autotls_new_ca: write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("-autotls_new_ca: sync %s: %w", name, err)
	}
	return f.Close()
}
