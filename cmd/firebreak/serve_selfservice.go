package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"firebreak/selfservice"
	"firebreak/sqlite"
)

// selfServiceKeyFile holds the key that signs self-service links, in the
// data directory: created on first start, 32 random bytes, mode 0600.
const selfServiceKeyFile = "selfservice.key"

// openSelfService opens the public self-service pages and appeals: people
// reach them through a signed, expiring link in the in-app feed, see what
// happened to their account, and can say "this was me".
func (c *ServeCommand) openSelfService() error {
	key, err := loadOrCreateKey(filepath.Join(c.Config.DataDir, selfServiceKeyFile))
	if err != nil {
		return fmt.Errorf("self-service key: %w", err)
	}
	tokens, err := selfservice.NewTokens(key, nil)
	if err != nil {
		return err
	}
	c.appeals = sqlite.NewAppealStore(c.db)
	appeals := c.appeals
	h, err := selfservice.NewHandler(selfservice.Config{Logger: c.Logger}, tokens, c.Incidents, appeals,
		&selfservice.Appeals{Store: appeals, Facts: appeals, Lifter: c.Contain, Auditor: c.Audit,
			Policy: selfservice.DefaultPolicy(), Logger: c.Logger})
	if err != nil {
		return fmt.Errorf("self-service: %w", err)
	}
	c.SelfTokens, c.selfService = tokens, h
	return nil
}

// loadOrCreateKey reads a 32-byte key, creating it on first use.
func loadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) < selfservice.MinKeyLen {
			return nil, fmt.Errorf("%s: %d bytes, want at least %d", path, len(key), selfservice.MinKeyLen)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key = make([]byte, 32)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}
