package main

// Configuration from the function's environment. Building everything here
// does no I/O (no connection, no KMS call) unless MFA_KMS_DATA_KEYS is
// set: then each data key is unwrapped by KMS, once, before the first
// request, and a failure is the function's init error.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // sql.Open("pgx", ...)

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/totp"
)

// appStore is what the function needs of a store: the Verifier's concerns
// and the session package's.
type appStore interface {
	mfa.Store
	session.Store
}

// sealer is the Keyring of MFA_SEAL_KEYS, or, in a build with -tags kms
// and MFA_KMS_DATA_KEYS set, the KMS sealer (kms.go).
func sealer(ctx context.Context, getenv func(string) string) (mfa.Sealer, error) {
	if getenv("MFA_KMS_DATA_KEYS") != "" {
		return kmsSealer(ctx, getenv)
	}
	keys, err := mfa.ParseKeys(getenv("MFA_SEAL_KEYS"))
	if err != nil {
		return nil, fmt.Errorf("MFA_SEAL_KEYS: %w", err)
	}
	return mfa.NewKeyring(keys[0], keys[1:]...)
}

// signingKeys reads MFA_SIGNING_KEYS: PEM blocks (PKCS #8), newest first,
// each preceded by a "kid: ID" line.
func signingKeys(getenv func(string) string) (*session.KeySet, error) {
	text := getenv("MFA_SIGNING_KEYS")
	var keys []*session.Key
	for _, part := range strings.Split(text, "kid:")[1:] {
		kid, pemText, ok := strings.Cut(strings.TrimLeft(part, " "), "\n")
		if !ok {
			return nil, errors.New("MFA_SIGNING_KEYS: want \"kid: ID\" then a PEM block")
		}
		k, err := session.ParseKeyPEM(strings.TrimSpace(kid), []byte(pemText))
		if err != nil {
			return nil, fmt.Errorf("MFA_SIGNING_KEYS: %w", err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("MFA_SIGNING_KEYS: no key")
	}
	return session.NewKeySet(keys[0], keys[1:]...)
}

// newApp builds the function from its environment.
func newApp(ctx context.Context, getenv func(string) string) (*app, error) {
	st, err := openStore(getenv)
	if err != nil {
		return nil, err
	}
	hash, err := mfa.ParseHashKeys(getenv("MFA_HASH_KEYS"))
	if err != nil {
		return nil, fmt.Errorf("MFA_HASH_KEYS: %w", err)
	}
	keys, err := signingKeys(getenv)
	if err != nil {
		return nil, err
	}
	issuer, audience := getenv("MFA_ISSUER"), getenv("MFA_AUDIENCE")
	if issuer == "" || audience == "" {
		return nil, errors.New("MFA_ISSUER and MFA_AUDIENCE are required")
	}
	s, err := sealer(ctx, getenv)
	if err != nil {
		return nil, err
	}
	issuerName := getenv("MFA_TOTP_ISSUER") // shown in authenticator apps
	if issuerName == "" {
		issuerName = "mfa example"
	}
	tf, err := totp.New(totp.Config{Issuer: issuerName})
	if err != nil {
		return nil, err
	}
	bc, err := backupcodes.New(backupcodes.Config{})
	if err != nil {
		return nil, err
	}
	a := &app{}
	a.v, err = mfa.New(mfa.Config{Store: st, Factors: []mfa.Factor{tf, bc}, Sealer: s, HashKeys: hash})
	if err != nil {
		return nil, err
	}
	a.m, err = session.New(session.Config{Issuer: issuer, Audience: audience, Store: st, Hasher: a.v.Hasher(), Keys: keys, PendingTTL: 15 * time.Minute})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// osEnv is os.Getenv; tests pass their own.
var osEnv = os.Getenv
