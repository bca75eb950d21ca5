package reload

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-autotls/autotls/internal/atomicfile"
	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// Layout of an export directory.
const (
	// CurrentLink is the symlink in Dir that points at the current version.
	CurrentLink = "current"
	// CAFile is the name of the private CA bundle.
	CAFile = "ca.pem"
	// versionPrefix starts the name of each version directory.
	versionPrefix = ".v-"
)

// An Exporter writes the Manager's certificates as files for a nats-server
// that runs in another process. For each role it writes "<role>.crt" (the
// chain, PEM, mode 0644) and "<role>.key" (PKCS #8 PEM, mode 0600), plus
// "ca.pem" (the private CA bundle, for ca_file of cluster, gateway and
// verifying leafnode listeners).
//
// # Atomic as a set
//
// Each export writes a new version directory Dir/.v-<n>/ holding every
// file, syncs it, and then swaps the symlink Dir/current to it with one
// rename. The stable paths a nats-server config names are symlinks through
// it: Dir/<role>.crt -> current/<role>.crt, and so on. So whenever a file is
// opened, the certificate and key paths resolve into one version: a new
// certificate never appears next to an old key. (A reader that opens the
// certificate before a swap and the key after it could still mix two
// versions; [Sidecar] swaps only after the server confirmed the previous
// version, so it never swaps under a reload it triggered.) The previous
// version stays on disk; older ones are removed, and so is a version
// directory left by an export that failed or crashed before its swap.
//
// A nats-server config uses, for example:
//
//	tls {
//	  cert_file: "/etc/nats/certs/client.crt"
//	  key_file:  "/etc/nats/certs/client.key"
//	}
//	cluster { tls {
//	  cert_file: "/etc/nats/certs/cluster.crt"
//	  key_file:  "/etc/nats/certs/cluster.key"
//	  ca_file:   "/etc/nats/certs/ca.pem"
//	  verify:    true
//	} }
//
// An Exporter is not safe for concurrent use; one process should own Dir.
type Exporter struct {
	// Manager supplies the certificates. Required.
	Manager *tlsmgr.Manager
	// Dir is the export directory, created with mode 0755 if missing.
	// Required.
	Dir string
	// Roles are the roles exported. Nil means every role ([tlsmgr.Roles]).
	Roles []tlsmgr.Role
}

// CertFile returns the stable path of a role's certificate chain.
func (e *Exporter) CertFile(role tlsmgr.Role) string {
	return filepath.Join(e.Dir, role.String()+".crt")
}

// KeyFile returns the stable path of a role's private key.
func (e *Exporter) KeyFile(role tlsmgr.Role) string {
	return filepath.Join(e.Dir, role.String()+".key")
}

// CAFile returns the stable path of the private CA bundle.
func (e *Exporter) CAFile() string { return filepath.Join(e.Dir, CAFile) }

// roles returns the roles to export.
func (e *Exporter) roles() []tlsmgr.Role {
	if e.Roles == nil {
		return tlsmgr.Roles()
	}
	return e.Roles
}

// Export writes the current certificates as a new version if they differ
// from the exported ones, and reports whether it did. It fails if a role has
// no certificate yet.
func (e *Exporter) Export(ctx context.Context) (changed bool, err error) {
	if e.Manager == nil || e.Dir == "" {
		return false, errors.New("reload: export: Exporter.Manager and Exporter.Dir are required")
	}
	files, err := e.render()
	if err != nil {
		return false, fmt.Errorf("reload: export: %w", err)
	}
	if e.same(files) {
		return false, e.ensureLinks(files)
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("reload: export: %w", err)
	}
	if err := e.writeVersion(files); err != nil {
		return false, fmt.Errorf("reload: export: %w", err)
	}
	return true, nil
}

// file is one exported file.
type file struct {
	name string
	data []byte
	mode os.FileMode
}

// render encodes every file of the current certificates.
func (e *Exporter) render() ([]file, error) {
	files := []file{{name: CAFile, data: e.Manager.TrustBundlePEM(), mode: 0o644}}
	for _, r := range e.roles() {
		cert, _, err := e.Manager.Current(r)
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", r, err)
		}
		signer, ok := cert.PrivateKey.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("role %s: key of type %T cannot be exported", r, cert.PrivateKey)
		}
		key, err := certutil.EncodeKey(signer)
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", r, err)
		}
		files = append(files,
			file{name: r.String() + ".crt", data: certutil.EncodeChain(cert.Certificate), mode: 0o644},
			file{name: r.String() + ".key", data: key, mode: 0o600})
	}
	return files, nil
}

// same reports whether the current version holds exactly files.
func (e *Exporter) same(files []file) bool {
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(e.Dir, CurrentLink, f.name))
		if err != nil || !bytes.Equal(got, f.data) {
			return false
		}
	}
	return true
}

// writeVersion writes files into a new version directory, swaps the
// current link to it, makes the stable links and prunes old versions.
func (e *Exporter) writeVersion(files []file) error {
	if err := os.MkdirAll(e.Dir, 0o755); err != nil {
		return err
	}
	versions, err := e.versions()
	if err != nil {
		return err
	}
	next := 1
	if len(versions) > 0 {
		next = versions[len(versions)-1] + 1
	}
	previous := e.currentVersion()
	name := versionPrefix + strconv.Itoa(next)
	if err := writeDir(filepath.Join(e.Dir, name), files); err != nil {
		return err
	}
	if err := swapLink(e.Dir, CurrentLink, name); err != nil {
		return err // the next export prunes name if the swap did not happen
	}
	if err := e.ensureLinks(files); err != nil {
		return err
	}
	return e.prune(versions, previous)
}

// writeDir creates dir holding files, or removes what it wrote.
func writeDir(dir string, files []file) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return errors.Join(err, os.RemoveAll(dir))
		}
	}
	return nil
}

// ensureLinks makes Dir/<file> a symlink to current/<file> for every file.
func (e *Exporter) ensureLinks(files []file) error {
	for _, f := range files {
		target := filepath.Join(CurrentLink, f.name)
		if got, err := os.Readlink(filepath.Join(e.Dir, f.name)); err == nil && got == target {
			continue
		}
		if err := swapLink(e.Dir, f.name, target); err != nil {
			return err
		}
	}
	return nil
}

// swapLink atomically makes dir/name a symlink to target.
func swapLink(dir, name, target string) error {
	tmp := filepath.Join(dir, "."+name+".tmp-link")
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return atomicfile.SyncDir(dir)
}

// versions lists the version numbers in Dir, ascending.
func (e *Exporter) versions() ([]int, error) {
	entries, err := os.ReadDir(e.Dir)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, de := range entries {
		if n, ok := strings.CutPrefix(de.Name(), versionPrefix); ok && de.IsDir() {
			if v, err := strconv.Atoi(n); err == nil {
				out = append(out, v)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// currentVersion returns the number of the version the current link
// points at, or 0.
func (e *Exporter) currentVersion() int {
	target, err := os.Readlink(filepath.Join(e.Dir, CurrentLink))
	if err != nil {
		return 0
	}
	v, _ := strconv.Atoi(strings.TrimPrefix(target, versionPrefix))
	return v
}

// prune removes the version directories in old but previous, the version
// the new one replaced, in which a reader may still be opening files. The
// others are older versions, or were left by an interrupted export.
func (e *Exporter) prune(old []int, previous int) error {
	var errs []error
	for _, v := range old {
		if v != previous {
			errs = append(errs, os.RemoveAll(filepath.Join(e.Dir, versionPrefix+strconv.Itoa(v))))
		}
	}
	return errors.Join(errs...)
}
