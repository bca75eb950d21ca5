package natsmagic

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/internal/config"
)

// Creds are the leafnode credential files written for remote_users.
type Creds struct {
	// Dir is the private directory (0700) holding them; empty if none.
	Dir string
	// Files maps each account to its file (0600).
	Files map[string]string
}

// Remove deletes the files and their directory. It is safe to call on a
// nil Creds and more than once.
func (c *Creds) Remove() error {
	if c == nil || c.Dir == "" {
		return nil
	}
	return os.RemoveAll(c.Dir)
}

// NATSOptions returns nats_config as nats-server's options, with each
// leafnode remote whose account has a remote user pointed at a credential
// file written under parent (empty: the system's temporary directory).
// It returns nil options when there is no nats_config. Nothing of
// nats_config is written to disk but the credential files, which the
// caller must Remove on every exit.
func (c *Config) NATSOptions(parent string) (*server.Options, *Creds, error) {
	if c.NATSConfig == nil {
		if len(c.RemoteUsers) > 0 {
			return nil, nil, errors.New("natsmagic: remote_users without nats_config: give the leafnode remotes in nats_config")
		}
		return nil, nil, nil
	}
	creds, err := c.writeCreds(parent)
	if err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(c.NATSConfig)
	if err != nil {
		creds.Remove()
		return nil, nil, fmt.Errorf("%s: %w", c.NATSConfigSource, err)
	}
	opts, err := config.ProcessNATSString(string(data))
	if err != nil {
		creds.Remove()
		return nil, nil, fmt.Errorf("%s: %w: fix the NATS configuration", c.NATSConfigSource, err)
	}
	return opts, creds, nil
}

// writeCreds writes one credential file per remote user that a leafnode
// remote uses, and points the remote at it.
func (c *Config) writeCreds(parent string) (*Creds, error) {
	remotes := c.leafRemotes()
	creds := &Creds{Files: map[string]string{}}
	accounts := make([]string, 0, len(c.RemoteUsers))
	for a := range c.RemoteUsers {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	for _, account := range accounts {
		user := c.RemoteUsers[account]
		if user == nil || user.Token == "" || user.Nkey == "" {
			creds.Remove()
			return nil, fmt.Errorf("%s: remote_users.%s: needs token and nkey", c.NATSConfigSource, account)
		}
		users := 0
		for _, r := range remotes {
			if r["account"] != account {
				continue
			}
			if creds.Dir == "" {
				dir, err := os.MkdirTemp(parent, "nats-autotls-creds-")
				if err != nil {
					return nil, fmt.Errorf("natsmagic: remote_users: %w", err)
				}
				creds.Dir = dir
			}
			path, ok := creds.Files[account]
			if !ok {
				path = filepath.Join(creds.Dir, account+".creds")
				if err := writeCredsFile(path, user); err != nil {
					creds.Remove()
					return nil, err
				}
				creds.Files[account] = path
			}
			r["credentials"] = path
			users++
		}
		if users == 0 {
			creds.Remove()
			return nil, fmt.Errorf("%s: remote_users.%s: no leafnode remote uses this account: remove it or add the remote", c.NATSConfigSource, account)
		}
	}
	return creds, nil
}

// leafRemotes returns nats_config's leafnodes.remotes blocks.
func (c *Config) leafRemotes() []map[string]any {
	leaf, _ := c.NATSConfig["leafnodes"].(map[string]any)
	list, _ := leaf["remotes"].([]any)
	var out []map[string]any
	for _, r := range list {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// writeCredsFile writes a decorated user credentials file, 0600 from the
// start.
func writeCredsFile(path string, u *RemoteUser) error {
	content := fmt.Sprintf("-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"+
		"************************* IMPORTANT *************************\n"+
		"NKEY Seed printed below can be used to sign and prove identity.\n"+
		"NKEYs are sensitive and should be treated as secrets.\n\n"+
		"-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n\n"+
		"*************************************************************\n", u.Token, u.Nkey)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("natsmagic: remote_users: %w", err)
	}
	_, err = f.WriteString(content)
	return errors.Join(err, f.Close())
}
