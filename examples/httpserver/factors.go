package main

// A user's factors, and the changes that need a recent second factor:
// removing one, replacing the backup codes. Every change ends the user's
// other sessions.

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/session"
)

// factorSet is a user's factors as the pages need them.
type factorSet struct {
	all      []mfa.FactorInfo
	totp     bool   // an active TOTP factor
	codes    bool   // an active backup code set
	codesID  string // its ID
	keys     bool   // an active security key or passkey
	push     bool   // an active paired device
	anyReady bool   // any active factor
}

func (a *app) factorsOf(ctx context.Context, userID string) (factorSet, error) {
	list, err := a.verifier.Factors(ctx, userID)
	if err != nil {
		return factorSet{}, err
	}
	set := factorSet{all: list}
	for _, f := range list {
		if !f.Active {
			continue
		}
		set.anyReady = true
		switch f.Kind {
		case mfa.KindTOTP:
			set.totp = true
		case mfa.KindBackupCodes:
			set.codes, set.codesID = true, f.ID
		case mfa.KindWebAuthn:
			set.keys = true
		case push.Kind:
			set.push = true
		}
	}
	return set, nil
}

// factorChanged ends the user's other sessions after a factor was added,
// removed or replaced (ASVS 5.0 §7.4.3): whoever else was signed in signs
// in again, with the factors as they are now.
func (a *app) factorChanged(r *http.Request, userID, keepSession string) {
	if _, err := a.sessions.RevokeOthers(r.Context(), userID, keepSession); err != nil {
		a.log.Error("revoking other sessions", "user", userID, "err", err)
	}
}

func (a *app) codesRegenerate(w http.ResponseWriter, r *http.Request) {
	c, u, ok := a.current(w, r)
	if !ok {
		return
	}
	a.regenerate(w, r, u, c, r.PostFormValue("factor_id"), authTimeOf(c))
}

func (a *app) regenerate(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims, factorID string, authTime time.Time) {
	en, err := a.verifier.Regenerate(r.Context(), mfa.ChangeRequest{UserID: u.ID, FactorID: factorID, AuthTime: authTime})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		a.askStepUp(w, r, u, "regenerate", factorID)
		return
	}
	if errors.Is(err, mfa.ErrNotFound) {
		redirect(w, r, "/")
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.factorChanged(r, u.ID, c.SessionID)
	a.showCodes(w, r, u, en, "Your old backup codes no longer work.")
}

func (a *app) remove(w http.ResponseWriter, r *http.Request) {
	c, u, ok := a.current(w, r)
	if !ok {
		return
	}
	a.removeFactor(w, r, u, c, r.PostFormValue("factor_id"), authTimeOf(c))
}

// removeFactor removes a factor. The route already demanded a recent
// auth_time (MaxAge); the Verifier checks it again (FreshFor).
func (a *app) removeFactor(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims, factorID string, authTime time.Time) {
	err := a.verifier.RemoveFactor(r.Context(), mfa.ChangeRequest{UserID: u.ID, FactorID: factorID, AuthTime: authTime})
	switch {
	case errors.Is(err, mfa.ErrStepUpRequired):
		a.askStepUp(w, r, u, "remove", factorID)
	case errors.Is(err, mfa.ErrNotFound):
		redirect(w, r, "/")
	case err != nil:
		a.internal(w, r, err)
	default:
		a.factorChanged(r, u.ID, c.SessionID)
		redirect(w, r, "/?notice=removed")
	}
}

func (a *app) factorName(ctx context.Context, userID, factorID string) string {
	set, err := a.factorsOf(ctx, userID)
	if err == nil {
		for _, f := range set.all {
			if f.ID == factorID {
				return f.Name
			}
		}
	}
	return "this factor"
}
