package session

import (
	"encoding/json"

	"github.com/golang-jwt/jwt/v5"
)

// strictDates wraps the claims a JWT is parsed into and refuses a token
// whose exp, nbf, iat or auth_time is present but not a JSON number.
//
// RFC 7519 §2 defines a NumericDate as a JSON numeric value, and
// OpenID Connect says the same of auth_time, but jwt.NumericDate reads
// its value through a json.Number, which also takes a string holding a
// number: "exp":"1796…" would pass for a date. Other verifiers of the
// same tokens (jose, an API gateway) refuse it, and two parsers that
// disagree about a token is what a forger looks for, so the Manager
// refuses it too. null is refused as well: it is not a number, and for
// nbf golang-jwt would take it for an absent claim.
//
// A number with a fraction or an exponent is a JSON number and is
// accepted, as RFC 7519 allows; golang-jwt truncates it to the second
// below, which makes exp earlier and moves nbf and iat by less than the
// leeway.
//
// The check runs while the payload is decoded, before the signature is
// checked, like every other test of a token's form.
type strictDates struct {
	jwt.Claims
}

// dateShape records, for one claim, whether it was present and whether
// its value was a JSON number.
type dateShape uint8

const (
	dateAbsent dateShape = iota
	dateNumber
	dateNotNumber
)

// UnmarshalJSON receives the claim's value as it appears in the payload,
// already checked to be valid JSON; only a number starts with '-' or a
// digit. encoding/json calls it for null too.
func (d *dateShape) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9') {
		*d = dateNumber
	} else {
		*d = dateNotNumber
	}
	return nil
}

// UnmarshalJSON checks the dates' JSON types, then decodes the payload
// into the wrapped claims.
func (s *strictDates) UnmarshalJSON(b []byte) error {
	// The same decoder as the claims' own, so both read the same member
	// when a name repeats or differs in case.
	var d struct {
		Exp      dateShape `json:"exp"`
		Nbf      dateShape `json:"nbf"`
		Iat      dateShape `json:"iat"`
		AuthTime dateShape `json:"auth_time"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	for _, c := range [...]struct {
		name  string
		shape dateShape
	}{{"exp", d.Exp}, {"nbf", d.Nbf}, {"iat", d.Iat}, {"auth_time", d.AuthTime}} {
		if c.shape == dateNotNumber {
			return refuse(ErrMalformed, c.name+" is not a JSON number (RFC 7519 NumericDate)")
		}
	}
	return json.Unmarshal(b, s.Claims)
}

// Validate implements jwt.ClaimsValidator for the wrapped claims.
func (s *strictDates) Validate() error {
	if v, ok := s.Claims.(jwt.ClaimsValidator); ok {
		return v.Validate()
	}
	return nil
}
