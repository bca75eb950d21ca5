package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// sharedCA is the cluster CA given by -autotls_ca_cert, -autotls_ca_key and
// -autotls_ca_trust. SIGHUP re-reads the three files and moves the running
// CA to what they hold, so a cluster rotates its CA without a restart:
//
//  1. on every node, put the new CA certificate in the trust file; SIGHUP;
//  2. on every node, put the new CA in the cert and key files and the old
//     certificate in the trust file; SIGHUP (each node renews its
//     mutual-TLS certificate from the new CA; peers trust both);
//  3. on every node, empty the trust file; SIGHUP.
type sharedCA struct {
	ca                        *privateca.CA
	certFile, keyFile, trusts string
}

// loadSharedCA reads the CA files named by the flags.
func loadSharedCA(f *autoTLSFlags) (*sharedCA, error) {
	sc := &sharedCA{certFile: f.caCert, keyFile: f.caKey, trusts: f.caTrust}
	certPEM, keyPEM, trustPEM, err := sc.read()
	if err != nil {
		return nil, err
	}
	cfg := privateca.Config{CertPEM: certPEM, KeyPEM: keyPEM}
	if len(bytes.TrimSpace(trustPEM)) > 0 {
		cfg.Trust = [][]byte{trustPEM}
	}
	if sc.ca, err = privateca.New(cfg); err != nil {
		return nil, err
	}
	return sc, nil
}

// read returns the contents of the three files (trust may be unset).
func (sc *sharedCA) read() (certPEM, keyPEM, trustPEM []byte, err error) {
	if certPEM, err = readPEM("autotls_ca_cert", sc.certFile); err != nil {
		return nil, nil, nil, err
	}
	if keyPEM, err = readPEM("autotls_ca_key", sc.keyFile); err != nil {
		return nil, nil, nil, err
	}
	if sc.trusts != "" {
		if trustPEM, err = readPEM("autotls_ca_trust", sc.trusts); err != nil {
			return nil, nil, nil, err
		}
	}
	return certPEM, keyPEM, trustPEM, nil
}

// reload moves the CA to what the files hold now: trust what the trust file
// adds, switch the signing CA if the cert file changed (and renew the
// mutual-TLS certificate from it), and stop trusting CAs that are in
// neither file. It reports whether the trust bundle changed.
func (sc *sharedCA) reload(ctx context.Context, m *tlsmgr.Manager, logger *slog.Logger) (bool, error) {
	certPEM, keyPEM, trustPEM, err := sc.read()
	if err != nil {
		return false, err
	}
	before := sc.ca.BundlePEM()
	if len(bytes.TrimSpace(trustPEM)) > 0 {
		if err := sc.ca.Trust(trustPEM); err != nil {
			return false, fmt.Errorf("-autotls_ca_trust %s: %w", sc.trusts, err)
		}
	}
	oldKey := sc.ca.IssuerKey()
	if err := sc.ca.Rotate(certPEM, keyPEM); err != nil {
		return false, fmt.Errorf("-autotls_ca_cert %s: %w", sc.certFile, err)
	}
	if err := sc.untrustOthers(certPEM, trustPEM); err != nil {
		return false, err
	}
	if sc.ca.IssuerKey() != oldKey {
		logger.Info("private CA rotated; renewing the mutual-TLS certificate", "issuer", sc.ca.IssuerKey())
		if err := m.Renew(ctx, tlsmgr.RoleCluster); err != nil {
			return true, fmt.Errorf("renew after CA rotation: %w", err)
		}
	}
	return !bytes.Equal(before, sc.ca.BundlePEM()), nil
}

// untrustOthers drops from the bundle every CA in neither certPEM nor
// trustPEM.
func (sc *sharedCA) untrustOthers(certPEM, trustPEM []byte) error {
	keep := map[string]bool{}
	for _, p := range [][]byte{certPEM, trustPEM} {
		if len(bytes.TrimSpace(p)) == 0 {
			continue
		}
		chain, err := certutil.DecodeChain(p)
		if err != nil {
			return err
		}
		for _, der := range chain {
			keep[string(der)] = true
		}
	}
	bundle, err := certutil.DecodeChain(sc.ca.BundlePEM())
	if err != nil {
		return err
	}
	var errs []error
	for _, der := range bundle {
		if keep[string(der)] {
			continue
		}
		c, err := x509.ParseCertificate(der)
		if err == nil {
			err = sc.ca.Untrust(c)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
