package mfa_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
)

// Backup codes made under the original hash key keep verifying after the
// key rotates, while the old key stays in the ring with the empty ID; a
// set made after the rotation names the new key; a set whose key has left
// the ring fails closed (ErrSealed), never as a wrong code.
func TestHashKeyRotationBackupCodes(t *testing.T) {
	ctx := context.Background()
	codes, err := backupcodes.New(backupcodes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	withCodes := func(c *mfa.Config) { c.Factors = append(c.Factors, codes) }
	e := newEnv(t, withCodes)
	enrol := func(v *mfa.Verifier, user string) []string {
		t.Helper()
		en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindBackupCodes})
		if err != nil {
			t.Fatal(err)
		}
		return en.Show.(*backupcodes.Codes).List
	}
	verify := func(v *mfa.Verifier, user, code string) error {
		_, err := v.Verify(ctx, mfa.VerifyRequest{UserID: user, Kind: mfa.KindBackupCodes, Response: code})
		return err
	}
	alice := enrol(e.v, "alice")

	newKey := mfa.HashKey{ID: "2027-01", Secret: bytes.Repeat([]byte{8}, 32)}
	ring := func(keys ...mfa.HashKey) *mfa.Verifier {
		cfg := e.cfg
		cfg.HashKey, cfg.HashKeys = nil, keys
		v, err := mfa.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	rotated := ring(newKey, mfa.HashKey{Secret: hashKey})
	if err := verify(rotated, "alice", alice[0]); err != nil {
		t.Fatalf("old-key code after rotation: %v", err)
	}
	if err := verify(rotated, "alice", alice[0]); !errors.Is(err, mfa.ErrReplayed) {
		t.Fatalf("old-key code used twice: %v, want ErrReplayed", err)
	}
	bob := enrol(rotated, "bob")

	retired := ring(newKey)
	if err := verify(retired, "bob", bob[0]); err != nil {
		t.Fatalf("new-key code after the old key left: %v", err)
	}
	if err := verify(retired, "alice", alice[1]); !errors.Is(err, mfa.ErrSealed) {
		t.Fatalf("code of a set whose key left the ring: %v, want ErrSealed", err)
	}
	// The original single-key Verifier cannot check a set made under a
	// named key: it fails closed too.
	if err := verify(e.v, "bob", bob[1]); !errors.Is(err, mfa.ErrSealed) {
		t.Fatalf("named-key set under a Verifier without that key: %v, want ErrSealed", err)
	}
}

func TestHashKeysConfig(t *testing.T) {
	k := func(id string, n int) mfa.HashKey { return mfa.HashKey{ID: id, Secret: bytes.Repeat([]byte{1}, n)} }
	for _, tc := range []struct {
		name string
		edit func(*mfa.Config)
	}{
		{"both HashKey and HashKeys", func(c *mfa.Config) { c.HashKeys = []mfa.HashKey{k("a", 32)} }},
		{"duplicate ID", func(c *mfa.Config) { c.HashKey, c.HashKeys = nil, []mfa.HashKey{k("a", 32), k("a", 32)} }},
		{"short key", func(c *mfa.Config) { c.HashKey, c.HashKeys = nil, []mfa.HashKey{k("a", 32), k("b", 31)} }},
		{"long ID", func(c *mfa.Config) {
			c.HashKey, c.HashKeys = nil, []mfa.HashKey{k(string(bytes.Repeat([]byte{'x'}, mfa.MaxHashKeyIDLen+1)), 32)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := newEnv(t).cfg
			tc.edit(&cfg)
			if _, err := mfa.New(cfg); !errors.Is(err, mfa.ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
		})
	}
}
