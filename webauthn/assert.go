package webauthn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// Challenge issues assertion options. With in.Factor set they allow that
// credential only; with only a user, every credential of in.Existing; with
// no user (passkey sign-in), any discoverable credential, and user
// verification is required. Issued.Show is the *protocol.CredentialAssertion
// to send to the browser as JSON, for navigator.credentials.get.
func (f *Factor) Challenge(_ context.Context, in factor.ChallengeInput) (factor.Issued, error) {
	challenge, err := newChallenge(in.Rand)
	if err != nil {
		return factor.Issued{}, err
	}
	var (
		assertion *protocol.CredentialAssertion
		session   *gowebauthn.SessionData
	)
	if in.UserID == "" {
		assertion, session, err = f.wa.BeginDiscoverableLogin(
			gowebauthn.WithChallenge(challenge),
			gowebauthn.WithUserVerification(protocol.VerificationRequired),
		)
	} else {
		records := in.Existing
		if in.Factor != nil {
			records = []store.Factor{*in.Factor}
		}
		acct := &account{}
		for _, r := range records {
			if r.Kind != string(factor.KindWebAuthn) || r.UserID != in.UserID {
				continue
			}
			c, err := decodeCredential(r.Data)
			if err != nil {
				return factor.Issued{}, fmt.Errorf("%w: factor %s: %w", factor.ErrStore, r.ID, err)
			}
			if acct.handle == nil {
				acct.handle = c.UserHandle
			}
			acct.creds = append(acct.creds, c.library(0))
		}
		if len(acct.creds) == 0 {
			return factor.Issued{}, fmt.Errorf("%w: webauthn: the user has no security key or passkey", factor.ErrNotFound)
		}
		assertion, session, err = f.wa.BeginLogin(acct,
			gowebauthn.WithChallenge(challenge),
			gowebauthn.WithUserVerification(f.cfg.UserVerification.protocol()),
		)
	}
	if err != nil {
		return factor.Issued{}, fmt.Errorf("webauthn: begin login: %w", err)
	}
	state, err := session.MarshalMsg(nil)
	if err != nil {
		return factor.Issued{}, fmt.Errorf("webauthn: encode session: %w", err)
	}
	return factor.Issued{Data: state, TTL: f.cfg.Timeout, Show: assertion}, nil
}

// Resolve returns the Lookup of the credential an assertion names, so the
// Verifier can find its factor (and user) before verifying it.
func (f *Factor) Resolve(_ context.Context, response string) (string, error) {
	if len(response) > MaxAssertionSize {
		return "", fmt.Errorf("%w: webauthn: assertion longer than %d bytes", factor.ErrMalformedResponse, MaxAssertionSize)
	}
	id, err := credentialID(response)
	if err != nil {
		return "", err
	}
	return Lookup(id), nil
}

// credentialID reads the credential ID a response names, checking only
// what names it: id equal to rawId, type "public-key", 1 to 1023 bytes.
func credentialID(response string) ([]byte, error) {
	var msg struct {
		ID    string `json:"id"`
		RawID string `json:"rawId"`
		Type  string `json:"type"`
	}
	if err := json.Unmarshal([]byte(response), &msg); err != nil {
		return nil, fmt.Errorf("%w: webauthn: response is not JSON: %w", factor.ErrMalformedResponse, err)
	}
	id, err := base64.RawURLEncoding.DecodeString(msg.ID)
	switch {
	case err != nil || len(id) == 0 || msg.RawID != msg.ID || msg.Type != string(protocol.PublicKeyCredentialType):
		return nil, fmt.Errorf("%w: webauthn: response names no credential (id, rawId, type)", factor.ErrMalformedResponse)
	case len(id) > MaxCredentialIDLen:
		return nil, fmt.Errorf("%w: webauthn: credential ID longer than %d bytes", factor.ErrMalformedResponse, MaxCredentialIDLen)
	}
	return id, nil
}

// Verify checks an assertion (the JSON of the browser's PublicKeyCredential)
// against the stored credential and the taken challenge: type, challenge,
// origin, RP ID hash, user presence, user verification per policy (always
// for passkey sign-in), BE/BS, signature, and the signature counter. The
// match's Counter is the new count, which the Verifier commits with a
// compare-and-set from the stored one.
func (f *Factor) Verify(_ context.Context, in factor.VerifyInput) (factor.Match, error) {
	if len(in.Response) > MaxAssertionSize {
		return factor.Match{}, fmt.Errorf("%w: webauthn: assertion longer than %d bytes", factor.ErrMalformedResponse, MaxAssertionSize)
	}
	if in.Challenge == nil {
		return factor.Match{}, fmt.Errorf("%w: webauthn: an assertion needs a challenge", factor.ErrExpired)
	}
	session, err := decodeSession(in.Challenge.Data)
	if err != nil {
		return factor.Match{}, err
	}
	rec, err := decodeCredential(in.Factor.Data)
	if err != nil {
		return factor.Match{}, fmt.Errorf("%w: %w", factor.ErrWrongCode, err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(in.Response))
	if err != nil {
		return factor.Match{}, refusal(factor.ErrMalformedResponse, "assertion", err)
	}
	if !bytes.Equal(parsed.RawID, rec.ID) {
		return factor.Match{}, fmt.Errorf("%w: webauthn: the assertion is from another credential", factor.ErrWrongCode)
	}
	if err := checkChallenge(session, parsed.Response.CollectedClientData.Challenge); err != nil {
		return factor.Match{}, err
	}
	stored := uint32(in.Factor.Counter)
	acct := &account{handle: rec.UserHandle, creds: []gowebauthn.Credential{rec.library(stored)}}
	passkey := len(session.UserID) == 0
	if passkey {
		_, _, err = f.wa.ValidatePasskeyLogin(func(rawID, userHandle []byte) (gowebauthn.User, error) {
			if !bytes.Equal(userHandle, rec.UserHandle) {
				return nil, errors.New("the user handle is not the credential's user")
			}
			return acct, nil
		}, *session, parsed)
	} else {
		if !containsID(session.AllowedCredentialIDs, rec.ID) {
			return factor.Match{}, fmt.Errorf("%w: webauthn: the credential was not allowed by the challenge", factor.ErrChallengeMismatch)
		}
		// The challenge listed all the user's credentials; this check is
		// against the one the Verifier loaded, which the user owns.
		session.AllowedCredentialIDs = [][]byte{rec.ID}
		session.UserID = rec.UserHandle
		_, err = f.wa.ValidateLogin(acct, *session, parsed)
	}
	if err != nil {
		return factor.Match{}, refusal(factor.ErrWrongCode, "assertion refused", err)
	}
	flags := parsed.Response.AuthenticatorData.Flags
	uv := flags.HasUserVerified()
	if passkey && !uv {
		return factor.Match{}, fmt.Errorf("%w: webauthn: passkey sign-in without user verification", factor.ErrWrongCode)
	}

	m := factor.Match{Counter: int64(stored), Remaining: -1}
	next := *rec
	count := parsed.Response.AuthenticatorData.Counter
	switch {
	case count > stored || (count == 0 && stored == 0):
		m.Counter = int64(count)
	case f.cfg.SignCount == SignCountAcceptAndFlag:
		m.Notes = []factor.EventType{factor.EventSignCountRegressed}
		next.CloneWarning = true
	default:
		return factor.Match{Notes: []factor.EventType{factor.EventSignCountRegressed}}, fmt.Errorf("%w (stored %d, presented %d)", ErrSignCountRegressed, stored, count)
	}
	// A key that may have been cloned is no longer proof of a single
	// hardware authenticator: next carries the flag.
	m.AMR, m.AAL = next.assurance(uv, passkey)
	next.BackupState = flags.HasBackupState()
	next.UserVerified = rec.UserVerified || uv
	if next.BackupState != rec.BackupState || next.UserVerified != rec.UserVerified || next.CloneWarning != rec.CloneWarning {
		if m.Data, err = next.encode(); err != nil {
			return factor.Match{}, fmt.Errorf("webauthn: encode credential: %w", err)
		}
	}
	return m, nil
}
