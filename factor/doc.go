// Package factor is what a factor author implements: the [Factor]
// interface, its optional interfaces, and the values passed in and out.
//
// Most code should use package mfa instead: an application configures a
// Verifier with the factors of packages totp, backupcodes and webauthn and
// never calls a Factor itself. This package is for people writing a new
// kind of second factor, the way database/sql/driver is for people writing
// a database driver.
//
// # What a factor does, and what it does not
//
// A Factor does only its own check: is this response right for this
// enrolled secret and state? The Verifier around it counts the attempt
// before the check, opens and seals secrets, takes challenges exactly once,
// commits single use with a compare-and-set, emits events and denies on any
// error. A Factor keeps no state between calls and never reads a clock or a
// random source of its own: [VerifyInput.Now], [EnrollInput.Rand] and the
// others bring them.
//
// # Optional interfaces
//
// A Factor may also implement:
//
//   - [Challenger]: it needs a challenge before a response (WebAuthn
//     assertions, a sent code, a push).
//   - [Registrar]: its enrolment is itself a challenge and response
//     (WebAuthn registration).
//   - [Resolver]: a response names its own factor, so a sign-in needs no
//     username (a discoverable passkey).
//   - [Remainer]: its factor is a set of single-use values whose count a
//     user should see (backup codes).
//   - [Unguessable]: its response is a signature by a key on the user's
//     device, so a failure is not a guess and does not feed the user's
//     lockout (WebAuthn, push).
//   - [IssueCapper]: a Challenger whose challenges cost per destination
//     (a sent code, a push) declares extra issuance caps, per destination,
//     per country, a resend cool-down, counted before it is called.
//   - [ChallengeOnly]: its Verify reads only the challenge, so the secret
//     is not opened to verify (a sent code).
//   - [Restricted]: a restricted authenticator under NIST SP 800-63B (SMS):
//     its results say so and an application may refuse it.
//
// The Verifier checks for them at run time; a factor without one simply
// lacks that ability, and the Verifier answers ErrUnsupportedKind where a
// call needs it.
//
// # Security
//
// A wrong response must cost the same work as a right one: compare with
// crypto/subtle, hash every candidate. Errors wrap the sentinels of this
// package ([ErrWrongCode], [ErrMalformedResponse], [ErrReplayed], ...);
// the Verifier treats any other error from Verify as a wrong response and
// never shows its text to a client. Nothing a factor returns in
// [Enrolled.Data], [Issued.Data] or [Match.Data] may be a plaintext secret:
// only [Enrolled.Secret] is sealed before it is stored. Hash codes with the
// [Hasher] passed in, under a domain of the factor's own.
package factor
