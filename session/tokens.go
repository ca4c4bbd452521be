package session

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/mfakit/mfa"
)

// MaxTokenLen is the longest token (JWT, refresh or device token) that is
// looked at; anything longer is refused before it is parsed.
const MaxTokenLen = 8 << 10

// Token types (the JWT "typ" header). Each kind is verified only as
// itself: a pending token is never an access token, and the reverse.
const (
	typAccess      = "at+jwt" // RFC 9068 §2.1
	typAccessLong  = "application/at+jwt"
	typPending     = "mfa-pending+jwt"
	typPendingLong = "application/mfa-pending+jwt"
)

// pendingAudience is the "aud" of every pending token, never
// Config.Audience: a verifier of access tokens that ignores typ (an API
// gateway's JWT authorizer) still refuses a pending token, issued after
// the first factor alone (RFC 8725 §2.8, §3.9).
const pendingAudience = "urn:mfakit:mfa-pending"

// ACR values naming the assurance level an access token's session reached
// (the "acr" claim, and the acr_values of a step-up challenge). They are
// this library's URNs rather than a federation's, so they promise nothing
// beyond the NIST SP 800-63B level the factor reached.
const (
	ACRAAL1 = "urn:mfakit:aal1"
	ACRAAL2 = "urn:mfakit:aal2"
	ACRAAL3 = "urn:mfakit:aal3"
)

// ACR returns the acr value of an assurance level, or "" for none.
func ACR(a mfa.AAL) string {
	switch a {
	case mfa.AAL1:
		return ACRAAL1
	case mfa.AAL2:
		return ACRAAL2
	case mfa.AAL3:
		return ACRAAL3
	}
	return ""
}

// AALFromACR is the inverse of [ACR]; 0 for an unknown value.
func AALFromACR(acr string) mfa.AAL {
	switch acr {
	case ACRAAL1:
		return mfa.AAL1
	case ACRAAL2:
		return mfa.AAL2
	case ACRAAL3:
		return mfa.AAL3
	}
	return 0
}

// AccessClaims are the claims of an access token (RFC 9068, with the
// OpenID Connect sid, auth_time, amr and acr).
type AccessClaims struct {
	jwt.RegisteredClaims
	ClientID  string `json:"client_id"`
	SessionID string `json:"sid"`
	// AuthTime is when the user last passed a second factor in this
	// session (the sign-in, or the latest step-up).
	AuthTime *jwt.NumericDate `json:"auth_time"`
	// AMR lists RFC 8176 method references of every factor used in the
	// session, plus "mfa" at AAL2 and above.
	AMR []string `json:"amr,omitempty"`
	// AuthAMR lists the method references of the verification at
	// AuthTime alone (the sign-in, or the latest step-up), so that a
	// route can ask for one kind of factor used recently: a security key
	// at sign-in followed by a TOTP step-up holds "hwk" in AMR but not in
	// AuthAMR.
	AuthAMR []string `json:"auth_amr,omitempty"`
	// ACR names the assurance level: one of ACRAAL1, ACRAAL2, ACRAAL3.
	ACR string `json:"acr"`
}

// AAL returns the assurance level named by the acr claim.
func (c *AccessClaims) AAL() mfa.AAL { return AALFromACR(c.ACR) }

// Validate implements jwt.ClaimsValidator: the claims this package
// depends on must be present.
func (c *AccessClaims) Validate() error {
	switch {
	case c.Subject == "":
		return refuse(ErrMalformed, "missing sub")
	case c.SessionID == "":
		return refuse(ErrMalformed, "missing sid")
	case c.ID == "":
		return refuse(ErrMalformed, "missing jti")
	case c.IssuedAt == nil:
		return refuse(ErrMalformed, "missing iat")
	case c.AuthTime == nil:
		return refuse(ErrMalformed, "missing auth_time")
	case c.AAL() == 0:
		return refuse(ErrMalformed, "unknown acr")
	}
	return nil
}

// Offered is one factor a pending token offers.
type Offered struct {
	ID   string   `json:"id"`
	Kind mfa.Kind `json:"kind"`
}

// PendingClaims are the claims of an MFA-pending token: the user has
// passed the first factor (the application's password or OIDC login) and
// must now pass one of Factors.
type PendingClaims struct {
	jwt.RegisteredClaims
	Factors []Offered `json:"factors,omitempty"`
}

// Binding is the value to pass as mfa.ChallengeRequest.Binding and
// mfa.VerifyRequest.Binding: the token's jti, so a challenge issued for
// one sign-in attempt cannot be answered in another.
func (c *PendingClaims) Binding() string { return c.ID }

// Offers reports whether the token offers the factor with the given ID.
func (c *PendingClaims) Offers(factorID string) bool {
	return slices.ContainsFunc(c.Factors, func(o Offered) bool { return o.ID == factorID })
}

// OffersKind reports whether the token offers a factor of the given kind.
func (c *PendingClaims) OffersKind(k mfa.Kind) bool {
	return slices.ContainsFunc(c.Factors, func(o Offered) bool { return o.Kind == k })
}

// Validate implements jwt.ClaimsValidator.
func (c *PendingClaims) Validate() error {
	switch {
	case c.Subject == "":
		return refuse(ErrMalformed, "missing sub")
	case c.ID == "":
		return refuse(ErrMalformed, "missing jti")
	case c.IssuedAt == nil:
		return refuse(ErrMalformed, "missing iat")
	}
	return nil
}

// maxOffered bounds the factors listed in a pending token.
const maxOffered = 64

// maxIDLen bounds user, session, device and factor IDs this package
// accepts, as the root package does.
const maxIDLen = 256

// IssuePending returns an MFA-pending token for a user who has passed the
// first factor, offering the user's active factors (pending enrolments are
// left out). A user with no active factor gets a token that offers none:
// it proves the first factor only, for an application that lets such a
// user enrol a first factor (whose confirmation's Result then goes to
// Start). A pending token is never accepted where an access token is.
func (m *Manager) IssuePending(ctx context.Context, userID string, factors []mfa.FactorInfo) (string, *PendingClaims, error) {
	if userID == "" || len(userID) > maxIDLen {
		return "", nil, fmt.Errorf("%w: user ID must be 1 to %d bytes", ErrInvalidResult, maxIDLen)
	}
	var offered []Offered
	for _, f := range factors {
		if f.Active && len(f.ID) <= maxIDLen && len(f.Kind) <= maxIDLen {
			offered = append(offered, Offered{ID: f.ID, Kind: f.Kind})
		}
	}
	if len(offered) > maxOffered {
		return "", nil, fmt.Errorf("%w: more than %d factors", ErrInvalidResult, maxOffered)
	}
	jti, err := m.randomID()
	if err != nil {
		return "", nil, err
	}
	now := m.now()
	c := &PendingClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    m.issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{pendingAudience},
			ExpiresAt: jwt.NewNumericDate(now.Add(m.pendingTTL)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		Factors: offered,
	}
	tok, err := m.sign(typPending, c)
	if err != nil {
		return "", nil, err
	}
	return tok, c, nil
}

// VerifyPending checks an MFA-pending token and returns its claims.
func (m *Manager) VerifyPending(token string) (*PendingClaims, error) {
	c := new(PendingClaims)
	if err := m.parse(m.pendingParser, token, c, m.pendingKF); err != nil {
		return nil, err
	}
	return c, nil
}

// VerifyAccess checks an access token and returns its claims. It does not
// look at the store; see [CheckRevocation] for routes that must.
func (m *Manager) VerifyAccess(token string) (*AccessClaims, error) {
	c := new(AccessClaims)
	if err := m.parse(m.parser, token, c, m.accessKF); err != nil {
		return nil, err
	}
	return c, nil
}

func (m *Manager) sign(typ string, claims jwt.Claims) (string, error) {
	k := m.keys.signing
	t := &jwt.Token{
		Header: map[string]any{"alg": k.alg, "typ": typ, "kid": k.id},
		Claims: claims,
		Method: k.method,
	}
	s, err := t.SignedString(k.signKey)
	if err != nil {
		return "", fmt.Errorf("mfa: session: sign: %w", err)
	}
	return s, nil
}

func (m *Manager) parse(p *jwt.Parser, raw string, claims jwt.Claims, kf jwt.Keyfunc) error {
	if raw == "" {
		return refuse(ErrMalformed, "empty token")
	}
	if len(raw) > MaxTokenLen {
		return refuse(ErrMalformed, "token too long")
	}
	tok, err := p.ParseWithClaims(raw, &strictDates{claims}, kf)
	if err != nil {
		return m.classify(tok, err)
	}
	return nil
}

// keyfunc returns the jwt.Keyfunc for one token type. It runs after the
// header is decoded and the alg allow-listed, before the signature check:
// the type must match, the kid must name a key, and the token's alg must
// be that key's one algorithm, so a token can never choose how the key is
// used (no HS256 with a public key as the secret).
func (m *Manager) keyfunc(typ, typLong string) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if _, crit := t.Header["crit"]; crit {
			return nil, refuse(ErrMalformed, "crit header not supported")
		}
		got, _ := t.Header["typ"].(string)
		if !strings.EqualFold(got, typ) && !strings.EqualFold(got, typLong) {
			return nil, refuse(ErrWrongType, "want "+typ)
		}
		kid, _ := t.Header["kid"].(string)
		k := m.keys.byID[kid]
		if k == nil {
			return nil, refuse(ErrUnknownKey, "")
		}
		if t.Method.Alg() != k.alg {
			return nil, refuse(ErrAlgorithm, "key "+k.id+" is "+k.alg)
		}
		return k.verifyKey, nil
	}
}

// classify turns a golang-jwt error into this package's sentinels.
func (m *Manager) classify(tok *jwt.Token, err error) error {
	var te *tokenError
	switch {
	case errors.As(err, &te):
		return te
	case errors.Is(err, jwt.ErrTokenMalformed):
		return refuse(ErrMalformed, "")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return refuse(ErrAlgorithm, "unknown or missing alg")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if tok != nil && tok.Method != nil && !slices.Contains(m.keys.algs, tok.Method.Alg()) {
			return refuse(ErrAlgorithm, tok.Method.Alg())
		}
		return refuse(ErrSignature, "")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return refuse(ErrWrongIssuer, "")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return refuse(ErrWrongAudience, "")
	case errors.Is(err, jwt.ErrTokenExpired):
		return refuse(ErrExpired, "")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return refuse(ErrNotYetValid, "")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return refuse(ErrMalformed, "missing claim")
	}
	return refuse(ErrInvalidToken, "")
}

var b64 = base64.RawURLEncoding.Strict()

// randomID returns 128 random bits, base64url: session IDs, device IDs,
// jti values.
func (m *Manager) randomID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(m.rand, b[:]); err != nil {
		return "", fmt.Errorf("mfa: session: random: %w", err)
	}
	return b64.EncodeToString(b[:]), nil
}

// issueAccess signs an access token for a session state.
func (m *Manager) issueAccess(sid, userID string, st *state, now, idleExpires time.Time) (string, *AccessClaims, error) {
	jti, err := m.randomID()
	if err != nil {
		return "", nil, err
	}
	exp := now.Add(m.accessTTL)
	exp = earliest(exp, idleExpires, st.Until)
	c := &AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    m.issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{m.audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		ClientID:  m.clientID,
		SessionID: sid,
		AuthTime:  jwt.NewNumericDate(st.AuthTime),
		AMR:       st.AMR,
		AuthAMR:   st.LastAMR,
		ACR:       ACR(st.AAL),
	}
	tok, err := m.sign(typAccess, c)
	if err != nil {
		return "", nil, err
	}
	return tok, c, nil
}

func earliest(t time.Time, more ...time.Time) time.Time {
	for _, u := range more {
		if !u.IsZero() && u.Before(t) {
			t = u
		}
	}
	return t
}
