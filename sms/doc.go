// Package sms is a second factor of one-time codes sent by SMS.
//
// It is a module of its own (github.com/mfakit/mfa/sms) because phone
// numbers are parsed with github.com/nyaruka/phonenumbers, which brings
// Google's numbering metadata and the protobuf runtime: only applications
// that offer SMS pull them.
//
// Configure a [Factor] with a sentcode.Sender (package snssender, your
// own, or a sentcode.Console while developing) in mfa.Config.Factors.
// Enrolment takes the number in mfa.EnrollRequest.Destination, sends a
// code to it, and the factor is active once ConfirmEnrollment is given
// that code with the enrolment's ChallengeID. Sign-in, resend and the
// code rules are those of package email (see its Security section);
// both build on package sentcode.
//
// # Numbers
//
// [Parse] reads a number as typed ("+44 7700 900123", or a national
// number in Config.DefaultRegion) and normalises it to E.164. Invalid
// numbers, and every type that is not a mobile number (premium rate,
// shared cost, toll free, VoIP, pager, personal, unknown) are refused;
// Config.Regions can restrict enrolment to the countries you serve. A
// user is shown it masked: "+44 •••• ••• 123".
//
// # Security
//
//   - Restricted authenticator. NIST SP 800-63B names SMS a restricted
//     authenticator (SIM swap, number porting, SS7 interception). A match
//     yields at most AAL2, amr "sms" and "mca" (RFC 8176); the
//     mfa.Result says Restricted; every use emits [EventUsed]; and
//     mfa.Config.RefuseRestricted refuses SMS outright (no enrolment, no
//     code sent) for an application whose policy no longer accepts it.
//   - SMS pumping and toll fraud. Sending costs money per message, more
//     to some ranges. Premium-rate and other non-mobile numbers are
//     refused at enrolment, and sending is capped before anything is
//     sent: per user, per client IP and in all by mfa.IssueLimits; per
//     number (5 per hour, across users), one code per number per 30 s,
//     and per country calling code (200 per hour across all users) by
//     Config.Caps. Listing the countries you serve in Config.Regions is
//     the strongest defence.
//   - Numbers are sealed at rest, bound to user and factor; caps and the
//     optional one-number-one-user rule (Config.UniqueDestination) use
//     keyed hashes of the E.164 form. No number or code is put in an
//     event or log line.
package sms
