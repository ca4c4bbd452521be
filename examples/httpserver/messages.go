package main

// What the user reads when the Verifier refuses a code.

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/monitor"
)

// message turns a Verifier error into what the user reads and a status;
// kind is what the user tried. known is false for errors that are the
// server's fault.
func (a *app) message(err error, kind mfa.Kind) (msg string, status int, known bool) {
	if msg, status, known := monitorMessage(err); known {
		return msg, status, known
	}
	if kind == mfa.KindWebAuthn {
		return a.keyMessage(err, false)
	}
	backup := kind == mfa.KindBackupCodes
	var rl *mfa.RateLimitError
	switch {
	case errors.As(err, &rl):
		// Round up: a retry at the second shown must be admitted.
		at := rl.RetryAfter.Truncate(time.Second)
		if at.Before(rl.RetryAfter) {
			at = at.Add(time.Second)
		}
		return fmt.Sprintf("Too many wrong codes. Try again after %s (in %s).",
			at.UTC().Format("15:04:05 UTC"), humanWait(at.Sub(a.now()))), http.StatusTooManyRequests, true
	case errors.Is(err, mfa.ErrLocked):
		return "Too many failed attempts: your second factor is locked. Ask an operator to unlock it.", http.StatusLocked, true
	case errors.Is(err, mfa.ErrReplayed) && backup:
		return "That backup code was already used: each one works once. Use another.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrReplayed):
		return "That code was already used. Wait for the next one in your app (a new code appears every 30 seconds).", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrMalformedResponse) && backup:
		return "That is not a backup code: they look like abcd-efgh-jkmnp.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrMalformedResponse):
		return "That is not a code: enter the 6 digits your app shows.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrWrongCode), errors.Is(err, mfa.ErrNotFound), errors.Is(err, mfa.ErrNotEnrolled):
		// One neutral message: whether the factor (or user) exists is
		// not the client's to learn from a refused code (see mfa's
		// errors.go).
		return "Wrong code. Check it and try again.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrExpired):
		return "This setup expired. Start again.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrInvalidInput):
		return "That request was not valid.", http.StatusBadRequest, true
	}
	return "", http.StatusInternalServerError, false
}

// monitorMessage reads the sign-in monitor's refusals (monitoring.go),
// whatever the kind tried. Its other errors (ErrUnavailable) are the
// server's: the attempt was denied, and the page says something went wrong.
func monitorMessage(err error) (msg string, status int, known bool) {
	switch {
	case errors.Is(err, monitor.ErrAddressFlagged):
		return "Too many accounts were tried from your network. Try again later.", http.StatusTooManyRequests, true
	case errors.Is(err, monitor.ErrPhishingResistantRequired):
		return "This sign-in comes from far from your last one: use your security key or passkey.", http.StatusForbidden, true
	}
	return "", http.StatusInternalServerError, false
}

// humanWait says a delay of up to an hour or so the way people do.
func humanWait(d time.Duration) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	if d < time.Minute {
		return plural(max(1, int((d+time.Second-1)/time.Second)), "second")
	}
	return plural(int((d+time.Minute-1)/time.Minute), "minute")
}
