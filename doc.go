// Package mfa adds multi-factor authentication to services that keep no
// state between requests (AWS Lambda, Cloud Run, pods that come and go).
//
// Configure a [Verifier] with the factors you offer (packages totp,
// backupcodes, webauthn, email; sms in its own module) and a [Store] you own (store/memstore,
// store/sqlstore, store/redisstore), then call it from your handlers:
//
//	v, err := mfa.New(mfa.Config{
//		Store:   memstore.New(),
//		Factors: []mfa.Factor{totpFactor, codes},
//		Sealer:  keyring,          // mfa.NewKeyring(mfa.Key{ID: "k1", Secret: key32})
//		HashKey: hashKey,          // 32+ random bytes, kept outside the database
//	})
//
//	// Enrolment: show the setup once, confirm with a first code.
//	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: uid, Kind: mfa.KindTOTP})
//	setup, err := mfa.ShowAs[*totp.Setup](en.Show)
//	_, err = v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: uid, FactorID: en.FactorID, Response: code})
//
//	// Sign-in, after your own password check:
//	res, err := v.Verify(ctx, mfa.VerifyRequest{UserID: uid, FactorID: fid, Response: code, IP: ip})
//	switch {
//	case errors.Is(err, mfa.ErrRateLimited): // tell the user when to retry
//	case err != nil:                          // deny, with one neutral message
//	default:                                  // res.AMR, res.AAL feed the session
//	}
//
// BeginEnrollment and ConfirmEnrollment add a factor; Challenge issues a
// challenge for kinds that need one (WebAuthn); Verify checks a response;
// Factors lists a user's factors; RemoveFactor and Regenerate change them;
// Unlock and Lockout are for operators. Package session turns a [Result]
// into tokens and guards routes. Nothing is kept in process memory, so ten
// instances sharing a store behave exactly like one.
//
// Package factor is for people writing a new kind of factor; an
// application needs only this package and the factor packages it
// configures.
//
// # Security
//
// Every guarantee below is enforced here, once, for every factor kind; a
// factor only does its own cryptographic check.
//
//   - Limit before compare. Each attempt on a code factor is counted
//     against the user (across all code factors), the factor and the
//     client IP in one atomic store call before any secret is compared, so
//     parallel requests cannot slip past a limit. After [Limits] Free
//     failures each attempt waits a delay that doubles from 30 s to 1 h; at
//     100 consecutive failures the user's code factors lock until
//     [Verifier.Unlock]. Second-factor guesses are never exempt. A success
//     clears the user and factor counters; the IP counter counts failures
//     only, so many users behind one address can still sign in.
//   - A stranger costs the user nothing. A response that names its own user
//     (a passkey sign-in) counts against the client IP only; an attempt
//     whose challenge is missing, expired or issued to another attempt
//     counts against the IP only, as the challenge is taken before anything
//     else is counted. Signature factors ([factor.Unguessable]: WebAuthn)
//     cannot be guessed: their failures count against the factor (with the
//     same cap of 100) and the IP, never against the user's lockout of the
//     code factors.
//   - Issuing costs are capped. Challenges are counted per user, per IP and
//     in all within fixed windows ([IssueLimits]) before they are made, so
//     nobody can fill the store with challenges or, for kinds that send
//     codes, run up the bill.
//   - Kinds that send codes (email, SMS) declare caps of their own per
//     destination, per country and a resend cool-down
//     ([factor.IssueCapper]), counted in the store before anything is
//     sent; a resend ([ChallengeRequest.Replaces]) takes the earlier code
//     out of use and leaves failure counts alone; a sender's failure
//     stores nothing. SMS is a restricted authenticator: its results say
//     [Result].Restricted, and Config.RefuseRestricted refuses it.
//   - Identifiers are checked before the store sees them: valid UTF-8, no
//     control characters, at most 256 bytes; anything else is
//     ErrInvalidInput on every backend alike.
//   - An unknown user or factor costs comparable work to a wrong code (a
//     code factor checks the response against a decoy secret), and the
//     error doc says which errors a client may be shown: one neutral
//     message for "no such user" and "wrong code".
//   - Exactly once. An accepted value is consumed by a compare-and-set in
//     the store: a TOTP step at or below the last accepted one is refused
//     (RFC 6238 §5.2) and a backup code works once, however many instances
//     race with the same value. Challenges are taken atomically.
//   - Fail closed. Any error from the store, the sealer, a factor or a hook
//     denies the attempt and is returned wrapped; errors.Is matches the
//     sentinels in this package.
//   - No plaintext at rest. Seeds are sealed with XChaCha20-Poly1305 under
//     keys with IDs (see [Keyring]); the associated data binds each
//     ciphertext to its user and factor. A seed opened with an old key is
//     re-sealed with the newest. Codes are stored as keyed HMAC-SHA256
//     hashes ([Hasher]) under a key kept outside the database. Hash keys
//     have IDs too (Config.HashKeys): a stored hash names its key, so the
//     key rotates without invalidating backup codes, refresh tokens or
//     remembered devices; [Verifier.Reseal] re-seals every stored secret
//     so an old sealing key can be retired.
//   - Nothing secret in events. An [Event] carries identifiers and the
//     sentinel's text, never a code, seed or response.
//   - Server time only, from Config.Now; no API takes a client time.
//
// Changing factors (adding one when the user has one, removing an active
// one, regenerating codes) requires a verification within Config.FreshFor.
// The rule holds at confirmation too: an enrolment begun before the user
// had an active factor, with the password alone, needs
// ConfirmRequest.AuthTime if the user has activated a factor since. A
// pending factor can be removed without one, and only while the store
// still finds it pending as it deletes it, so a confirmation that lands
// first keeps it. A user holds at most one backup code set, enforced by
// the store, so concurrent enrolments or regenerations leave exactly one.
// A confirmation whose activation committed but whose answer was lost can
// be retried with the same proof: it reports the factor active once, from a
// short-lived single-use receipt, and the proof still signs nobody in.
// When a hook fails on BeginEnrollment, a key registration or Regenerate,
// the factor just stored is deleted again, so no secret or code that
// nobody received stays valid (a TOTP confirmation refused by a hook
// stays active).
package mfa
