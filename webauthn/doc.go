// Package webauthn is the WebAuthn factor of the mfa library: security
// keys and passkeys, built on github.com/go-webauthn/webauthn.
//
// A [Factor] is configured once with [New] (relying party ID, allowed
// origins, policies) and plugged into an [mfa.Verifier], which drives it.
// The package is HTTP-free: it takes the JSON the browser produced
// (PublicKeyCredential.toJSON(), parsed with go-webauthn's protocol package)
// and returns results; an application's handlers only carry JSON between
// the page and the Verifier.
//
// # Ceremonies
//
// Registration: [mfa.Verifier.BeginEnrollment] with [mfa.KindWebAuthn]
// returns creation options (a *protocol.CredentialCreation) for
// navigator.credentials.create and stores the ceremony state as a
// single-use enrolment challenge; [mfa.Verifier.ConfirmEnrollment] with the
// browser's answer verifies the attestation and stores an active factor
// whose Lookup names the credential. A credential already registered to any
// user is refused.
//
// Second-factor sign-in: [mfa.Verifier.Challenge] for a user (and
// optionally one factor) returns request options (a
// *protocol.CredentialAssertion) allowing only that user's credentials;
// [mfa.Verifier.Verify] with the assertion, naming the user and the kind,
// finds the credential from the response, checks it and advances its
// signature counter.
//
// Passkey sign-in (no username first): a Challenge naming no user allows
// any discoverable credential and requires user verification; a Verify
// naming no user finds the credential, and so the user, from the response
// ([Factor.Resolve]) and checks that the user handle the authenticator
// returned is the one the credential was made for. [mfa.Result.UserID]
// then names the user.
//
// # Assurance
//
// Every match reports one RFC 8176 amr value for the key: "hwk" for a
// credential whose attestation chained to [Config.AttestationRoots] (or
// to a model of [Config.MetadataBLOB]) at registration and that is not
// backup eligible, "pop" for every other one; plus "user" when the
// authenticator verified the user (PIN or
// biometric), plus "mfa" for a passkey sign-in, where that one credential
// was both factors. A sign-in with user verification reaches [mfa.AAL3]
// only with an attested credential; otherwise, or without user
// verification, [mfa.AAL2]. [Credential.Level] says which level a
// credential can reach and why. See Security for the reasons.
//
// # Storage
//
// store.Factor.Data holds the [Credential] record (ID, COSE public key,
// user handle, AAGUID, transports, BE, BS and UV flags, attestation type,
// format and trust) in a compact binary encoding read by [CredentialOf].
// Records stored before the attestation trust was recorded read as not
// attested (AAL2 at most); decoders older than it refuse records of
// attested keys, so upgrade every instance before trusting any root. Nothing in
// it is secret, so the factor has no sealed Secret. The signature counter
// is store.Factor.Counter, which the Verifier moves with a compare-and-set.
// store.Factor.Lookup is [Lookup] of the credential ID: a fixed 43-byte
// hash whatever the ID's length, unique per credential, indexable by every
// backend.
//
// The user handle (user.id) is a keyed hash of the user ID (32 bytes,
// opaque, no personal data), or the handle of the user's existing
// credentials, so every credential of a user carries the same handle.
// The handle is computed once, under the primary hash key, and then kept
// in each credential record: rotating the hash key (mfa.Config.HashKeys)
// never changes the handle of a user who has a passkey.
//
// # Security
//
//   - AAL3 needs evidence of hardware. NIST SP 800-63B requires an AAL3
//     authenticator to be hardware-protected and a verifier cannot see
//     that from a key's flags: a software or virtual authenticator (such
//     as Chromium's, used in browser tests) sets UV and clears BE like a
//     security key. Attestation is the evidence: a statement signed by an
//     attestation key whose certificate chains to a root the operator
//     trusts (the vendor roots from FIDO metadata statements, or an
//     enterprise attestation CA) names a model certified to keep its keys
//     in hardware. So a credential reaches AAL3 only when, at
//     registration, its statement verified and its x5c chain led to one
//     of [Config.AttestationRoots] (or a model of [Config.MetadataBLOB])
//     at the Verifier's time; the decision
//     is stored in the credential (Credential.AttestationTrusted) and
//     applied at every sign-in, as statements are not sent again. It also
//     needs user verification, no backup eligibility (a synced passkey's
//     key can leave the device; 800-63B-4 caps it at AAL2) and no clone
//     warning. Nothing is fetched from a network: the roots are what the
//     operator configured.
//   - amr: "hwk" means proof of possession of a hardware-secured key, a
//     claim only an attested credential supports. Any other credential
//     reports "pop" (RFC 8176: proof of possession of a key, unspecified
//     whether hardware- or software-secured) rather than "swk": an
//     unattested key may well sit in a security key, so calling it
//     software-secured would be a claim of its own, and "pop" says exactly
//     what is known.
//   - Keys without trusted attestation ("none", self attestation, a chain
//     to an unconfigured root, or a statement that does not verify) are
//     registered at AAL2 so users are not locked out, and the result is
//     recorded (AttestationTrusted, AttestationInvalid, AttestationType,
//     AttestationFormat, AAGUID). [Config.RequireTrustedAttestation]
//     refuses them instead, with [ErrAttestationUntrusted]. Roots with
//     [AttestationNone] are refused by [New]: browsers would strip every
//     statement. Only x5c chains are evaluated (packed, tpm, android-key,
//     fido-u2f, apple); android-safetynet and compound statements never
//     count as trusted.
//   - A FIDO MDS3 blob ([Config.MetadataBLOB]) is an alternative anchor:
//     New checks its signature chain to [Config.MetadataRoot] (the FIDO
//     Alliance's root by default), and a key is attested when its model
//     (AAGUID) is listed with no compromised or revoked status in effect,
//     with keys kept in hardware, TEE or secure element, and its chain
//     leads to the model's attestation roots. The blob is the operator's
//     file: nothing is fetched (no x5u, CRL or OCSP), at registration,
//     at sign-in or in New, so it is as current as the operator keeps it.
//   - Every check of WebAuthn Level 3 §7.1 and §7.2 applies: client data
//     type, challenge (32 random bytes from the Verifier's source, single
//     use, bound to user and sign-in attempt, living [Config.Timeout], 5
//     minutes by default), origin against the allow-list, RP ID hash, user
//     presence, user verification when required (always for passkey
//     sign-in), BE/BS consistency (BS without BE is refused, BE may not
//     change after registration), the attestation statement and the
//     assertion signature.
//   - Credential IDs longer than 1023 bytes are refused; responses are
//     bounded ([MaxRegistrationSize], [MaxAssertionSize]) before parsing.
//   - Signature counter: a count that does not grow (other than both zero,
//     as authenticators that do not count report) is refused with
//     [ErrSignCountRegressed] or, with [SignCountAcceptAndFlag], accepted
//     and flagged on the record; either way the Verifier emits
//     [mfa.EventSignCountRegressed].
//   - The Verifier around the factor counts every attempt before it is
//     checked, takes each challenge exactly once, commits the counter with
//     a compare-and-set (of concurrent uses of one assertion exactly one
//     succeeds), emits events and fails closed, as for every kind.
//   - Errors wrap the mfa sentinels: [mfa.ErrMalformedResponse] for input
//     that is no response, [mfa.ErrChallengeMismatch] for a response to
//     another challenge, [mfa.ErrWrongCode] for a failed check (the message
//     names it), [mfa.ErrReplayed] for a counter that did not grow. The
//     messages may quote origins and hashes from the response but never
//     anything secret; events carry only the sentinel.
//   - New refuses an RP ID that is not a registrable domain (a public
//     suffix, an IP, a single label other than localhost) and origins that
//     are not https (http only on localhost) or not on the RP ID.
package webauthn
