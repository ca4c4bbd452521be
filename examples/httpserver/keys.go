package main

// The keys file. State kept across restarts needs the same keys across
// restarts: a new sealing key cannot open the TOTP seeds sealed before, a
// new hash key matches no stored backup code or refresh token, and a new
// signing key invalidates every access token. So the example creates its
// keys once, in a file readable only by its owner, and loads them at every
// start. A real deployment does not keep keys in a file next to the
// database: it loads them from a secret manager (a KMS, Vault, a mounted
// Kubernetes secret) and rotates them with mfa.Keyring and session.KeySet.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// keysFile is the JSON of the keys file.
type keysFile struct {
	SealKeyID    string `json:"seal_key_id"`
	SealKey      []byte `json:"seal_key"` // base64 in JSON
	HashKey      []byte `json:"hash_key"`
	SigningKeyID string `json:"signing_key_id"`
	SigningKey   string `json:"signing_key"` // PKCS #8 PEM
}

// loadKeys reads the keys at path, or creates the file (mode 0600) with
// fresh random keys when there is none; created says which.
func loadKeys(path string) (k keys, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if k, err = createKeys(path); err == nil {
			return k, true, nil
		}
		if !errors.Is(err, fs.ErrExist) { // else another process won the race
			return keys{}, false, err
		}
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return keys{}, false, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return keys{}, false, fmt.Errorf("keys file %s: mode %v lets others read it; chmod 600 it", path, fi.Mode().Perm())
	}
	var f keysFile
	if err := json.Unmarshal(data, &f); err != nil {
		return keys{}, false, fmt.Errorf("keys file %s: %w", path, err)
	}
	if len(f.SealKey) != 32 || len(f.HashKey) < 32 || f.SealKeyID == "" {
		return keys{}, false, fmt.Errorf("keys file %s: sealing or hash key missing or short", path)
	}
	signing, err := session.ParseKeyPEM(f.SigningKeyID, []byte(f.SigningKey))
	if err != nil {
		return keys{}, false, fmt.Errorf("keys file %s: signing key: %w", path, err)
	}
	return keys{seal: mfa.Key{ID: f.SealKeyID, Secret: f.SealKey}, hash: f.HashKey, signing: signing}, false, nil
}

// createKeys writes fresh keys to a new file at path; fs.ErrExist when
// there is one.
func createKeys(path string) (keys, error) {
	k, err := newKeys()
	if err != nil {
		return keys{}, err
	}
	pem, err := k.signing.MarshalPEM()
	if err != nil {
		return keys{}, err
	}
	data, err := json.MarshalIndent(keysFile{
		SealKeyID: k.seal.ID, SealKey: k.seal.Secret, HashKey: k.hash,
		SigningKeyID: k.signing.ID(), SigningKey: string(pem),
	}, "", "  ")
	if err != nil {
		return keys{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return keys{}, err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return keys{}, err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return keys{}, err
	}
	return k, nil
}
