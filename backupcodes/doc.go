// Package backupcodes is the recovery-code factor of the mfa library: a
// set of single-use codes the user keeps on paper for when their other
// factors are out of reach.
//
// A [Factor] is configured once with [New] and plugged into an
// [mfa.Verifier]. [Factor.Enroll] draws a new set and returns the codes,
// once, as [*Codes]; the set is active at once (there is nothing to
// confirm). A user has one set: [mfa.Verifier.Regenerate] replaces it
// (after a fresh verification) and every code of the old set stops working
// at once; BeginEnrollment refuses a second set.
//
// Codes are 13 characters of Crockford's base32 alphabet in lower case
// ([Alphabet], 65 bits each), shown as "abcd-efgh-jkmnp". Input is forgiving
// where it cannot be ambiguous: case is ignored, spaces and hyphens are
// skipped, and the look-alikes i and l are read as 1, o as 0. Anything else
// is refused as malformed before any hashing.
//
// # Storage
//
// [mfa.Enrolled.Data] holds a version byte, a 16-byte random salt and one
// 32-byte keyed hash per code: HMAC-SHA256 under the [mfa.Hasher] key,
// which lives outside the database, so a copy of the database gives no way
// to test guesses offline. No code is stored in any other form.
// [mfa.Enrolled.Counter] is a bitmap of used codes, bit i for code i; that
// is why a set holds at most [MaxCount] codes. Stored data that cannot be
// read (an unknown version, a wrong length, a bitmap naming codes the set
// does not have) is refused with an error wrapping [mfa.ErrSealed], which
// covers any stored secret material that cannot be read, sealed or hashed.
//
// # Security
//
//   - Entropy: each code carries 65 bits from the Verifier's random source
//     (crypto/rand by default), above the 64 bits NIST SP 800-63B-4 asks of
//     recovery codes.
//   - Work per attempt: Verify computes exactly one keyed hash, whatever the
//     number of codes, and compares it with every stored hash in constant
//     time without stopping at a match, so neither the time taken nor the
//     work done says which code matched or how many there are left to try.
//   - Single use: a match reports the bitmap with the code's bit set; the
//     Verifier commits it with a compare-and-set from the stored bitmap, so
//     of concurrent submissions of one code exactly one succeeds, and a
//     used code is refused with [mfa.ErrReplayed]. Every use is reported
//     with [mfa.EventBackupCodeUsed], and [mfa.EventBackupCodesLow] when few
//     remain, so the application can notify the user and offer a new set.
//   - Guessing: the Verifier rate limits and counts every attempt before
//     this package compares anything.
//   - Display: [Codes] redacts itself when printed or logged; show
//     [Codes.List] to the user once and keep it nowhere.
package backupcodes
