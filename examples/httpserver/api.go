package main

// The JSON API: the same session, for a client that sends its access
// token as "Authorization: Bearer <token>" (RFC 6750). Any service holding
// the keys at /.well-known/jwks.json can check such a token without calling
// this app.

import (
	"encoding/json"
	"net/http"

	"github.com/mfakit/mfa/session"
)

// me is the answer of GET /api/me: who the token names and how they
// signed in.
type me struct {
	Subject  string   `json:"sub"`
	AMR      []string `json:"amr"`
	ACR      string   `json:"acr"`
	AuthTime int64    `json:"auth_time"` // Unix seconds
}

// apiMe answers GET /api/me, behind Require(MinAAL(AAL2)): a missing or
// invalid token is 401 with a WWW-Authenticate challenge, a lower level an
// RFC 9470 step-up challenge.
func (a *app) apiMe(w http.ResponseWriter, r *http.Request) {
	c, ok := session.ClaimsFrom(r.Context())
	if !ok {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(me{Subject: c.Subject, AMR: c.AMR, ACR: c.ACR, AuthTime: authTimeOf(c).Unix()})
}
