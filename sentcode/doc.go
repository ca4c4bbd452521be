// Package sentcode is the code logic shared by the factors that send
// one-time codes (packages email and sms), and the delivery interface an
// application implements: [Sender], the [Message] it delivers, the
// [Template] that renders it and [Console], a Sender for development.
//
// An application uses this package for its Sender and, to translate or
// reword the message, its Template ([WithLocale] carries the user's
// language on the request's context into [Message.Locale]). It
// configures the factors of packages email and sms, not [Factor], which
// is how those are built.
//
// # Security
//
// A code is drawn uniformly from the Verifier's random source (rejection
// sampling, no modulo bias), 6 to 8 digits. The challenge stores a random
// salt and HMAC-SHA256 of the code under the Verifier's hash key, bound
// to the kind, user and factor; never the code. Verification normalises
// the response ([Normalize]: spaces and dashes dropped, any Unicode
// decimal digit read as its value, at most 64 bytes), hashes it whatever
// its length and compares in constant time. A Message carries the code
// and destination in clear to the Sender and nowhere else: a Sender must
// not log them, and [Console] prints both, so it is for development only.
// The caps a Factor declares (factor.IssueCapper) are keyed by a keyed
// hash of the destination, never the destination.
package sentcode
