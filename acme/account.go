package acme

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/go-acme/lego/v4/lego"
	"github.com/go-acme/lego/v4/registration"
	"github.com/nats-autotls/autotls/internal/certutil"
)

// account is the ACME account: lego's registration.User.
type account struct {
	email string
	key   crypto.Signer
	reg   *registration.Resource // nil until registered
}

func (a *account) GetEmail() string                        { return a.email }
func (a *account) GetRegistration() *registration.Resource { return a.reg }
func (a *account) GetPrivateKey() crypto.PrivateKey        { return a.key }

// accountRecord is the stored form of an account.
type accountRecord struct {
	Email string          `json:"email,omitempty"`
	URI   string          `json:"uri,omitempty"`
	Body  json.RawMessage `json:"body,omitempty"`
	Key   string          `json:"key"` // PEM, PKCS #8
}

// accountKey is the storage key of the account.
func (i *Issuer) accountKey() string {
	who := "default"
	if i.cfg.Email != "" {
		who = safeName(i.cfg.Email)
	}
	if who == "." || who == ".." {
		who = "-"
	}
	return "acme/" + i.key + "/" + who + "/account.json"
}

// loadAccount returns the account in memory, else the stored one, else a
// new unregistered account with a new P-256 key.
func (i *Issuer) loadAccount(ctx context.Context) (*account, error) {
	if i.acct != nil {
		return i.acct, nil
	}
	acct, err := i.readAccount(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		key, kerr := certutil.GenerateKey(certutil.P256)
		if kerr != nil {
			return nil, fmt.Errorf("acme: account key: %w", kerr)
		}
		acct, err = &account{email: i.cfg.Email, key: key}, nil
	}
	if err != nil {
		return nil, err
	}
	i.acct = acct
	return acct, nil
}

// readAccount loads the stored account; fs.ErrNotExist if there is none.
func (i *Issuer) readAccount(ctx context.Context) (*account, error) {
	if i.cfg.Storage == nil {
		return nil, fs.ErrNotExist
	}
	data, err := i.cfg.Storage.Load(ctx, i.accountKey())
	if err != nil {
		return nil, fmt.Errorf("acme: load account: %w", err)
	}
	var rec accountRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("acme: load account %s: decode: %w", i.accountKey(), err)
	}
	key, err := certutil.DecodeKey([]byte(rec.Key))
	if err != nil {
		return nil, fmt.Errorf("acme: load account %s: key: %w", i.accountKey(), err)
	}
	acct := &account{email: i.cfg.Email, key: key}
	if rec.URI != "" {
		acct.reg = &registration.Resource{URI: rec.URI}
		_ = json.Unmarshal(rec.Body, &acct.reg.Body) // informative only
	}
	return acct, nil
}

// register registers acct with the CA and stores it.
func (i *Issuer) register(ctx context.Context, lc *lego.Client, acct *account) error {
	var reg *registration.Resource
	var err error
	if eab := i.cfg.EAB; eab != nil {
		reg, err = lc.Registration.RegisterWithExternalAccountBinding(registration.RegisterEABOptions{
			TermsOfServiceAgreed: true, Kid: eab.KeyID, HmacEncoded: eab.HMACKey,
		})
	} else {
		reg, err = lc.Registration.Register(registration.RegisterOptions{TermsOfServiceAgreed: true})
	}
	if err != nil {
		return fmt.Errorf("acme: register account: %w", err)
	}
	acct.reg = reg
	i.log.Info("acme: account registered", "directory", i.cfg.DirectoryURL, "account", reg.URI)
	return i.storeAccount(ctx, acct)
}

// storeAccount writes acct to Storage, if any.
func (i *Issuer) storeAccount(ctx context.Context, acct *account) error {
	if i.cfg.Storage == nil {
		return nil
	}
	keyPEM, err := certutil.EncodeKey(acct.key)
	if err != nil {
		return fmt.Errorf("acme: store account: %w", err)
	}
	rec := accountRecord{Email: acct.email, Key: string(keyPEM)}
	if acct.reg != nil {
		rec.URI = acct.reg.URI
		rec.Body, _ = json.Marshal(acct.reg.Body)
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("acme: store account: %w", err)
	}
	if err := i.cfg.Storage.Store(ctx, i.accountKey(), data); err != nil {
		return fmt.Errorf("acme: store account: %w", err)
	}
	return nil
}

// safeName keeps the characters of s that are safe in a file name and
// replaces the others with '-'.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._@+-", r):
			return r
		}
		return '-'
	}, s)
}
