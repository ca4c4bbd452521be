package recovery

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// Handler serves the admin API as JSON, every route behind
// sm.Require(session.MinAAL(mfa.AAL2)), so an operator's session below
// AAL2 (a recovery session included) never reaches it. isOperator is the
// application's own decision about who may review; Handler refuses
// everyone else with 403 (everyone, when isOperator is nil). Mount it under a prefix with http.StripPrefix:
//
//	GET  /cases                  the open cases, oldest first
//	POST /cases/{id}/approve     form field note
//	POST /cases/{id}/deny        form field note
//	GET  /users/{id}/lockout
//	POST /users/{id}/unlock
//
// Codes are regenerated through [Admin.RegenerateCodes] only, so that
// they reach the user and not the operator's screen.
func (a *Admin) Handler(sm *session.Manager, isOperator func(r *http.Request, operatorID string) bool) http.Handler {
	mux := http.NewServeMux()
	op := func(r *http.Request) (Operator, bool) {
		c, ok := session.ClaimsFrom(r.Context())
		if !ok || isOperator == nil || !isOperator(r, c.Subject) { // nil: nobody
			return Operator{}, false
		}
		return Operator{ID: c.Subject, AAL: c.AAL()}, true
	}
	handle := func(pattern string, fn func(r *http.Request, o Operator) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			o, ok := op(r)
			if !ok {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			v, err := fn(r, o)
			if err != nil {
				http.Error(w, publicError(err), statusOf(err))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(v)
		})
	}
	handle("GET /cases", func(r *http.Request, o Operator) (any, error) { return a.Queue(r.Context(), o, 100) })
	handle("POST /cases/{id}/approve", func(r *http.Request, o Operator) (any, error) {
		return a.Approve(r.Context(), o, r.PathValue("id"), r.PostFormValue("note"))
	})
	handle("POST /cases/{id}/deny", func(r *http.Request, o Operator) (any, error) {
		return a.Deny(r.Context(), o, r.PathValue("id"), r.PostFormValue("note"))
	})
	handle("GET /users/{id}/lockout", func(r *http.Request, o Operator) (any, error) {
		return a.Lockout(r.Context(), o, r.PathValue("id"))
	})
	handle("POST /users/{id}/unlock", func(r *http.Request, o Operator) (any, error) {
		return struct{ Unlocked bool }{true}, a.Unlock(r.Context(), o, r.PathValue("id"))
	})
	return sm.Require(session.MinAAL(mfa.AAL2))(mux)
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrState), errors.Is(err, ErrExpired), errors.Is(err, ErrOwnerActive):
		return http.StatusConflict
	case errors.Is(err, mfa.ErrInvalidInput):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// publicError is the sentinel's text, never the cause (which may quote
// input or a database message).
func publicError(err error) string {
	for _, s := range []error{ErrForbidden, ErrNotFound, ErrState, ErrExpired, ErrOwnerActive, ErrInvalidInput, mfa.ErrInvalidInput} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "mfa: recovery: internal error"
}
