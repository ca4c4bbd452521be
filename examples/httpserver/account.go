package main

// Home: the landing page, the next step of a sign-in in progress, or the
// account page.

import (
	"net/http"
	"strings"

	"github.com/mfakit/mfa/session"
)

// notices are the fixed texts a redirect can ask for with ?notice=.
var notices = map[string]string{
	"signed-out":    "You are signed out.",
	"removed":       "The factor was removed.",
	"totp-added":    "Your authenticator app is set up.",
	"key-added":     "Your security key or passkey is registered.",
	"key-aal2":      "Your security key or passkey is registered. AAL2: the key gave no attestation that chains to a configured trust anchor.",
	"key-aal3":      "Your security key or passkey is registered. AAL3: its attestation chains to a configured trust anchor.",
	"key-step-up":   "Confirmed. Now add your security key or passkey.",
	"email-added":   "Email codes are set up. They count as AAL1: an authenticator app or a key is stronger.",
	"sms-added":     "SMS codes are set up. SMS is a restricted authenticator: AAL2 at most.",
	"email-step-up": "Confirmed. Now enter your email address again.",
	"backup-used":   "You signed in with a backup code. Each code works once; replace the set when you run low.",
}

// noticeText is the notice a redirect asked for: only fixed texts.
func noticeText(r *http.Request) string {
	return notices[r.URL.Query().Get("notice")]
}

// signedOutHome is home without a session: the next step of a sign-in in
// progress, or the landing page.
func (a *app) signedOutHome(w http.ResponseWriter, r *http.Request, d *session.Denial) {
	if d.Status == http.StatusServiceUnavailable {
		a.internal(w, r, d.Err)
		return
	}
	notice := noticeText(r)
	_, u, ok := a.pendingUser(r)
	if !ok {
		if d.Code == session.CodeInvalidToken { // revoked, expired or forged
			a.sessions.ClearCookies(w)
		}
		a.render(w, http.StatusOK, "landing", landingPage{base{Title: "Multi-factor sign-in, by example", Notice: notice}})
		return
	}
	set, err := a.factorsOf(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if set.anyReady {
		redirect(w, r, "/signin/code")
		return
	}
	a.render(w, http.StatusOK, "setup", setupPage{base: base{Title: "Set up two-step sign-in", User: u.Name, Notice: notice}, AddKey: a.keys, AddSMS: a.sms})
}

// account is home with a session.
func (a *app) account(w http.ResponseWriter, r *http.Request) {
	c, u, ok := a.current(w, r)
	if !ok {
		return
	}
	set, err := a.factorsOf(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	authTime := c.AuthTime.Time
	page := accountPage{
		base:     base{Title: "Your account", User: u.Name, Notice: noticeText(r)},
		HasTOTP:  set.totp,
		HasCodes: set.codes,
		AddKey:   a.keys,
		AddSMS:   a.sms,
		AuthTime: authTime,
		FreshFor: a.freshFor,
		Fresh:    a.now().Sub(authTime) <= a.freshFor,
		ACR:      c.ACR,
		AMR:      strings.Join(c.AMR, " "),
		APIURL:   "http://" + r.Host + "/api/me",
	}
	// The access token, to try the JSON API with curl. Showing it on a
	// page defeats HttpOnly, which keeps it from scripts: fine for a demo
	// without any script, not for a real site.
	if tok := a.sessions.AccessToken(r); tok != "" {
		page.AccessToken, page.AccessExpires = tok, c.ExpiresAt.Time
	}
	for _, f := range set.all {
		page.Factors = append(page.Factors, factorRow{
			ID: f.ID, Kind: string(f.Kind), Name: f.Name, Active: f.Active, LastUsed: f.LastUsed, Remaining: f.Remaining,
		})
	}
	a.render(w, http.StatusOK, "account", page)
}
