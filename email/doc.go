// Package email is a second factor of one-time codes sent by email.
//
// Configure a [Factor] with a sentcode.Sender (package smtpsender, your
// own, or a sentcode.Console while developing) in mfa.Config.Factors.
// Enrolment takes the address in mfa.EnrollRequest.Destination, sends a
// code to it, and the factor is active once ConfirmEnrollment is given
// that code with the enrolment's ChallengeID. A user may enrol several
// addresses. Each sign-in asks mfa.Verifier.Challenge for a code, which
// is sent, and answers it with Verify; ChallengeRequest.Replaces resends.
// The code logic is package sentcode's, shared with package sms.
//
// # Addresses
//
// [Parse] reads an address with net/mail, refuses display names, quoted
// or non-ASCII local parts and IP-literal domains, and normalises the
// domain to lower-case ASCII (punycode, so internationalised domains are
// one address whichever form was typed). The local part is kept as typed.
// A user is shown it masked: "j•••@example.com".
//
// # Security
//
//   - Assurance. Email is not an out-of-band authenticator under NIST SP
//     800-63B: a code proves access to a mailbox, which is often reached
//     with the same password and from any device. A match yields AAL1 by
//     default, amr "otp" and "mca" (RFC 8176): use it for recovery and
//     low-risk steps. Config.AAL may raise it to AAL2 where your policy
//     accepts that; sessions then treat an emailed code like TOTP.
//   - Codes are 6 digits by default (up to 8) from the Verifier's random
//     source, valid 5 minutes by default and never more than 10, single
//     use (the challenge holding the code is taken atomically, so of any
//     number of concurrent submissions on any number of instances one
//     succeeds), bound to the user, factor and sign-in attempt
//     (Binding), stored only as a salted keyed hash, compared in constant
//     time. A code typed with spaces, dashes or full-width digits is
//     normalised first. A wrong code spends its challenge: the user asks
//     for another, which is counted against the caps; failures count
//     toward the user's lockout like any code and a resend never resets
//     them.
//   - Sending is capped before anything is sent: per user, per client IP
//     and in all by mfa.IssueLimits; per address (5 per hour by default,
//     across users) and one code per address per 30 s (the resend
//     cool-down) by Config.Caps. A refusal is an mfa.RateLimitError.
//   - A Sender that fails or times out (Config.SendTimeout) leaves no
//     usable code: nothing is stored, the error wraps
//     sentcode.ErrSendFailed, and EventIssueFailed is emitted.
//   - Addresses are sealed at rest like TOTP seeds, bound to user and
//     factor. With Config.UniqueDestination an address may belong to one
//     user only, enforced by the store on a keyed hash of the normalised
//     address; a pending enrolment holds the address until it is removed.
//   - No code or address is put in an event or a log line; an error
//     never quotes the address. A subject or address cannot carry a
//     header: control characters are refused in the address and dropped
//     from the subject.
package email
