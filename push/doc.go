// Package push is push approval with number matching: a device the user
// paired (a phone, a second browser) is asked to approve a sign-in, shows
// where it comes from, and the user picks the number the sign-in screen
// shows; the device signs its answer with a key that never leaves it.
//
// Give a [Factor] to mfa.Config.Factors with the same store and wire four
// handlers; nothing is kept in process memory, so any instance serves any
// step:
//
//	pf, err := push.New(push.Config{Store: st, HashKey: hashKey, App: "Example"})
//	v, err := mfa.New(mfa.Config{Store: st, Factors: []mfa.Factor{pf, ...}, ...})
//
//	// Pairing, on the signed-in account page (step-up rules as for any factor):
//	en, _ := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: uid, Kind: push.Kind, AuthTime: at})
//	pairing, _ := mfa.ShowAs[*push.Pairing](en.Show) // show pairing.Link(deviceURL) as a QR code
//	// The device POSTs its Registration:
//	reg, code, err := push.ParseRegistration(body)
//	res, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: code.UserID, ChallengeID: code.ChallengeID, Response: string(body), Name: reg.Name})
//
//	// Sign-in, after the password:
//	ic, err := v.Challenge(push.WithSignIn(ctx, push.SignIn{IP: ip, Browser: ua}),
//		mfa.ChallengeRequest{UserID: uid, Kind: push.Kind, Binding: pendingID, IP: ip})
//	prompt, _ := mfa.ShowAs[*push.Prompt](ic.Show) // show prompt.Number
//	// The device fetches the request (pf.Poll, or a Notifier delivers it)
//	// and POSTs its signed Answer:
//	err = pf.Answer(ctx, body)
//	// The signing-in browser polls:
//	ans, err := pf.Answered(ctx, uid, prompt.RequestID) // ErrPending: poll again
//	res, err := v.Verify(ctx, mfa.VerifyRequest{UserID: uid, FactorID: ans.FactorID, Kind: push.Kind,
//		Response: ans.Response, ChallengeID: ic.ID, Binding: pendingID, IP: ip})
//
// Listing and unpairing devices are the Verifier's Factors and
// RemoveFactor, under the same step-up rules as any factor.
//
// # Security
//
//   - Number matching, always. The sign-in screen shows a two-digit number;
//     the device offers it among Config.Choices (at least 3) and the user
//     picks it (CISA's number-matching guidance; plain "approve?" does not
//     meet SP 800-63B-4). There is no approve-only answer. The stored
//     request holds only a keyed hash of the number.
//   - Signed answers. A device pairs by signing a single-use 256-bit pairing
//     code (valid at most 10 minutes, kept as a keyed hash) with a P-256 or
//     Ed25519 key it generated; the private key never leaves it. Every answer
//     signs the request ID, chosen number, decision, device ID and time; it
//     is checked against the paired key when it arrives and again by the
//     Verifier. A forged, other device's or other user's answer changes
//     nothing in the store.
//   - Exactly once. A request is bound to the sign-in attempt (the
//     Verifier's challenge Binding) and lives at most 2 minutes, server
//     time. An answer takes the request record, so of any number of
//     answers on any number of instances one is recorded; the browser's
//     poll takes that answer once; the Verifier takes its challenge once.
//     Replays, answers after expiry and answers to a cancelled request fail.
//   - Fatigue. A user has one pending push: a new one cancels the old.
//     Config.PerHour (default 6) caps pushes per user per fixed hour, on top
//     of the Verifier's issuance caps. A denial or a wrong number is reported
//     as [EventSuspectedFraud] when it arrives, even if the signing-in client
//     never completes (an attacker's would not), and Config.PauseAfter of
//     them (default 3 within an hour) pause pushes to the user for
//     Config.PauseFor ([EventPaused]). The refused answer, if submitted,
//     fails the verification and counts as a failure against the device and
//     the IP.
//   - A stranger costs the user nothing. Push is [factor.Unguessable]: a
//     refused signature is not a guess at a secret, so it never feeds the
//     user's lockout of the code factors.
//   - Stateless. Requests, device inboxes, answers and the pending pointer
//     are short-lived single-use records in the store's Challenges, under
//     IDs keyed with Config.HashKey, so no client can name one as a
//     challenge ID; counters live in the store's Counters. A device's
//     inbox holds the request as the device shows it, the number among the
//     choices: the number is what the user matches, not a credential, as an
//     answer counts only when the paired key signs it.
//   - Assurance. A match reaches AAL2 with amr "swk" and "mca" (RFC 8176):
//     a software key on a second device over a second channel. Nothing here
//     attests that a device key is hardware-bound, so never "hwk".
//   - Polling devices sign each poll with their time, which must be within
//     Config.PollSkew of the server's; a poll hands a waiting request out
//     once.
package push
