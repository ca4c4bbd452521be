// Package totp is the RFC 6238 time-based one-time password factor of the
// mfa library: the six- or eight-digit codes of authenticator apps.
//
// A [Factor] is configured once with [New] and plugged into an
// [mfa.Verifier]. [Factor.Enroll] draws a fresh seed and returns a [Setup]
// (otpauth URI, base32 secret, QR code) for the user's app; [Factor.Verify]
// checks a response against the opened seed and reports the time step it
// matched, which the Verifier commits as the factor's counter.
//
// # Verification
//
// The current step is computed from the server's clock as passed in
// [mfa.VerifyInput.Now]; no client-supplied time is ever used. Codes for
// every step from step-Skew to step+Skew are computed, always all of them,
// and each is compared in constant time, so a wrong code costs the same work
// as a right one and the time taken says nothing about which step matched.
// The HMAC and the RFC 4226 truncation are implemented here on stack
// buffers, so a verification allocates nothing.
//
// # Storage
//
// [mfa.Enrolled.Secret] is the raw seed. [mfa.Enrolled.Data] records the
// algorithm, digits and period the seed was enrolled with, so changing the
// [Config] later affects only new enrolments; existing authenticator apps
// keep working. [mfa.Enrolled.Counter] starts at 0 and then holds the last
// accepted step.
//
// # Security
//
//   - Replays: a code is accepted at most once per step. Verify refuses a
//     step at or below the stored counter with [mfa.ErrReplayed], and the
//     Verifier commits the reported step with a compare-and-set from the
//     stored counter, so of concurrent submissions of one code on any
//     number of instances exactly one succeeds (RFC 6238 §5.2).
//   - Seeds: the Verifier seals the seed with an AEAD bound to user and
//     factor before storing it; this package only sees it opened, in
//     memory, for the duration of a call. [Setup] is shown once and redacts
//     itself when printed or logged.
//   - Guessing: six digits are far below 64 bits, so the factor must be rate
//     limited; the Verifier counts every attempt before this package
//     compares anything.
//   - Phishing: a TOTP code can be relayed by a phishing site in real time.
//     A match reaches [mfa.AAL2] at most, never [mfa.AAL3].
package totp
