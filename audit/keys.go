package audit

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// File names inside the log directory.
const (
	recordsFile     = "records.jsonl"
	hashesFile      = "hashes"
	checkpointsFile = "checkpoints"
	signerKeyFile   = "signer.key"
	verifierKeyFile = "verifier.key"
	lockFile        = "lock"
)

// loadKeys reads the key pair in dir, creating it on first use. The signer
// key is written with mode 0600; the verifier key is public.
func loadKeys(dir, name string) (note.Signer, note.Verifier, string, error) {
	skeyPath := filepath.Join(dir, signerKeyFile)
	vkeyPath := filepath.Join(dir, verifierKeyFile)
	skey, err := os.ReadFile(skeyPath)
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(vkeyPath); err == nil {
			return nil, nil, "", fmt.Errorf("%s exists but %s is missing: restore the signer key, or start a new log in an empty directory", vkeyPath, skeyPath)
		}
		if err := createKeys(dir, name); err != nil {
			return nil, nil, "", err
		}
		skey, err = os.ReadFile(skeyPath)
	}
	if err != nil {
		return nil, nil, "", err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s: %w", skeyPath, err)
	}
	vkey, err := os.ReadFile(vkeyPath)
	if err != nil {
		return nil, nil, "", err
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s: %w", vkeyPath, err)
	}
	if signer.Name() != name {
		return nil, nil, "", fmt.Errorf("%s is for log %q, not %q (Options.Name)", skeyPath, signer.Name(), name)
	}
	// The pair must match: sign a probe and verify it.
	probe := []byte("firebreak audit key check\n")
	sig, err := signer.Sign(probe)
	if err != nil {
		return nil, nil, "", err
	}
	if verifier.Name() != signer.Name() || verifier.KeyHash() != signer.KeyHash() || !verifier.Verify(probe, sig) {
		return nil, nil, "", fmt.Errorf("%s does not match %s", vkeyPath, skeyPath)
	}
	return signer, verifier, strings.TrimSpace(string(vkey)), nil
}

// createKeys generates a new key pair and writes it durably. The verifier
// key is written first: a crash in between leaves a state loadKeys refuses
// rather than silently replacing keys.
func createKeys(dir, name string) error {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(dir, signerKeyFile+".tmp"), []byte(skey+"\n"), 0o600); err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(dir, verifierKeyFile), []byte(vkey+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(dir, signerKeyFile+".tmp"), filepath.Join(dir, signerKeyFile)); err != nil {
		return err
	}
	return syncDir(dir)
}

// parseVerifierKey checks a verifier key as written in a verifier.key file
// ("name+hash+base64", surrounding space ignored).
func parseVerifierKey(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("verifier key %q: %w (want name+hash+key, as in %s)", abbrev(vkey), err, verifierKeyFile)
	}
	return v, nil
}

func abbrev(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func writeFileSync(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
