// Package session turns a successful second factor into tokens a
// stateless service can check on every request without calling anything,
// and enforces them on net/http routes.
//
// Three kinds of token, each verified only as itself:
//
//   - An MFA-pending token (JWT, typ "mfa-pending+jwt", 5 minutes) after
//     the application's own first factor: it names the user and the
//     factors offered, and its jti binds challenges to this sign-in
//     attempt ([PendingClaims.Binding]).
//   - An access token (JWT, RFC 9068 typ "at+jwt", 5 minutes) with iss,
//     sub, aud, exp, iat, jti, client_id, sid, auth_time, amr and acr
//     (one of [ACRAAL1], [ACRAAL2], [ACRAAL3]).
//   - A refresh token: opaque "<session ID>.<256 random bits>", stored
//     only as a keyed hash, rotated at every use.
//
// The flow, with v an mfa.Verifier and m a [Manager]:
//
//	// after the password:
//	factors, _ := v.Factors(ctx, uid)
//	pending, pc, err := m.IssuePending(ctx, uid, factors)
//	m.SetPendingCookie(w, pending, pc) // or hand it to the client
//	// second factor:
//	pc, err := m.Pending(r)              // or m.VerifyPending(token)
//	res, err := v.Verify(ctx, mfa.VerifyRequest{UserID: pc.Subject, FactorID: id, Response: code, Binding: pc.Binding()})
//	tokens, err := m.Start(ctx, pc.Subject, res)
//	m.SetCookies(w, tokens)             // or return tokens as JSON
//	// routes:
//	mux.Handle("/account", m.Require(session.FromCookie(""))(account))
//	mux.Handle("/factors/remove", m.Require(session.FromCookie(""), session.MaxAge(10*time.Minute))(remove))
//	mux.Handle("/.well-known/jwks.json", m.JWKS())
//	// step-up, after a new verification res:
//	tokens, err := m.StepUp(ctx, m.RefreshToken(r), res)
//
// # Security
//
//   - Keys (RFC 8725). Ed25519 by default, ES256 as an option, HS256 only
//     when the caller builds an HS256 key of at least 256 bits, and then
//     never published. Every key has an ID and one algorithm: the kid
//     picks the key and the token's alg must be that key's, so "none",
//     an unknown alg, and HS256 signed with a public key as the HMAC secret
//     are all refused. A [KeySet] holds one signing key and any number of
//     verification keys, so keys rotate without signing anyone out.
//   - Validation. iss, aud, exp (required), nbf and iat (not in the
//     future) are checked with a leeway of 5 seconds (at most 10) against
//     Config.Now; the typ header must be the kind expected; a token longer
//     than [MaxTokenLen] is refused before it is parsed; base64 is decoded
//     strictly. exp, nbf, iat and auth_time must be JSON numbers (RFC 7519
//     NumericDate; a fraction is allowed): a string, null or boolean date
//     is refused as [ErrMalformed], as other JWT verifiers refuse it.
//   - Refresh rotation with reuse detection (RFC 9700 §4.14.2). Each
//     refresh retires the presented token in one atomic store operation;
//     presenting a retired token revokes the whole session and emits
//     [EventReuseDetected]. Of concurrent refreshes with one token, exactly
//     one gets tokens. A refresh never changes the level, amr or auth_time.
//   - Lifetimes. Idle and absolute limits per assurance level default to
//     NIST SP 800-63B rev 4 (see [Lifetimes]); an access token never
//     outlives its session's limits.
//   - Step-up (RFC 9470). [MinAAL] and [MaxAge] refuse with
//     error="insufficient_user_authentication", acr_values and max_age.
//     [Manager.StepUp] raises the session in place with a fresh auth_time;
//     it never lowers a session.
//   - Route policy. [Policy] hands each request whose token passed to a
//     [Decider] (package policy decides from route, roles, place and
//     time). What a step-up can fix (level, age, accepted amr values)
//     is answered like MinAAL and MaxAge, with the accepted amr values
//     in [Denial].AMR; a refusal no step-up fixes is 403 "access_denied"
//     with one fixed description, its cause only in [Denial].Err; a
//     Decider that fails refuses with 503. An auth_time more than 10
//     seconds in the future never meets a maximum age.
//   - Revocation. [Manager.Revoke], [Manager.RevokeUser] and reuse
//     detection end sessions at once for refresh; access tokens are
//     stateless, so routes that must see a revocation at once use
//     [CheckRevocation] (one store read per request), and the rest see it
//     within Config.AccessTTL.
//   - No plaintext at rest. Refresh and device tokens hold at least 128
//     random bits (we use 256) from Config.Rand and are stored only as
//     HMAC-SHA256 under the mfa.Hasher key, in their own domains; device
//     hashes bind the user. Hashes are compared in constant time.
//   - Cookies are HttpOnly, SameSite=Lax, Path=/ and Secure with the
//     "__Host-" prefix, unless Config.InsecureCookies (plain-HTTP
//     localhost). SameSite=Lax keeps browsers from sending them on
//     cross-site POSTs; routes that change state on a GET, or sites with
//     untrusted sibling subdomains, still need the application's own CSRF
//     defence.
//   - Fail closed. Any store or hook error refuses the operation; a session
//     whose new tokens cannot be delivered is revoked.
//
// # Storage
//
// A [Store] is store.Sessions plus store.Devices; the values of
// store/memstore, store/sqlstore and store/redisstore satisfy it.
// A session's store.Session.Data holds its level, amr and auth_time as
// JSON; nothing in it is secret.
package session
