package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// persistRecordsTimeout bounds -autotls_persist_records: one directory
// fetch and, at most, one account registration.
const persistRecordsTimeout = 2 * time.Minute

// printPersistRecords prints, as zone-file lines, the dns-persist-01 TXT
// records to publish for the configured names: -autotls_persist_records.
// The records name the ACME account, so it is loaded from the storage or
// registered and stored there first; a fleet sharing the storage (or the
// KV bucket) shares the account and the records.
func printPersistRecords(ctx context.Context, f *autoTLSFlags, out io.Writer) error {
	if f.directory == "" {
		return errors.New("-autotls_persist_records needs an ACME CA: set -autotls_acme (acme.directory)")
	}
	ctx, cancel := context.WithTimeout(ctx, persistRecordsTimeout)
	defer cancel()
	logger := slog.New(slog.DiscardHandler)
	dir, err := f.storageDir()
	if err != nil {
		return err
	}
	storage, kv, err := f.openStorage(ctx, dir, logger)
	if err != nil {
		return err
	}
	defer kv.close()
	var cfg tlsmgr.Config
	f.dnsPersist, f.fallback = true, nil
	if _, err := f.issuers(&cfg, storage, logger); err != nil {
		return err
	}
	iss, ok := cfg.Issuer.(*acme.Issuer)
	if !ok {
		return errors.New("-autotls_persist_records: no ACME issuer configured")
	}
	names := f.nameList()
	if len(names) == 0 {
		return errors.New("-autotls_persist_records needs the names: set -autotls_names (names)")
	}
	recs, err := iss.PersistRecords(ctx, names)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "; dns-persist-01 records for %s, account %s\n", iss.IssuerKey(), iss.AccountURL())
	fmt.Fprintln(out, "; publish once; every order after that needs no DNS write (run with -autotls_dns_persist)")
	for _, r := range recs {
		fmt.Fprintln(out, r)
	}
	return nil
}
