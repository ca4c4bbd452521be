package webauthn

// Unguessable marks WebAuthn as a kind whose responses are signatures
// (see factor.Unguessable): a failed assertion cannot be a guess at a
// secret, so the Verifier counts it against the credential and the client
// IP, never against the user's lockout of code factors. Without this, a
// stranger who knows only a credential ID could lock its owner out.
func (*Factor) Unguessable() {}
