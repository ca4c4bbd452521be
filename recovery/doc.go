// Package recovery is the way back for a user who lost every factor:
// recovery cases, operator review, a waiting period and a single-use
// grant that lets the user enrol one new factor. There is no path that
// skips review unless the operator configures Config.AutoApprove, which
// is weaker and documented as such.
//
//	m, err := recovery.New(recovery.Config{Store: st, Verifier: v, Notify: tellEveryChannel})
//
//	// 1. After your own identity checks (password plus an emailed link):
//	o, err := m.Open(ctx, recovery.OpenRequest{UserID: uid, Source: src, Reason: why, Validator: "password+email-link"})
//	// show or send o.Token to the requester, once
//
//	// 2. An operator, in a session at AAL2 or better (see Admin):
//	c, err := m.Approve(ctx, recovery.Decision{CaseID: id, Operator: opID, Note: "called back"})
//
//	// 3. After c.NotBefore, the requester (identified again by you):
//	g, err := m.Redeem(ctx, recovery.RedeemRequest{UserID: uid, Token: token, IP: ip})
//	tokens, err := sessions.Start(ctx, uid, g.Result()) // AAL1, amr ["rec"]
//	en, err := m.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: uid, Kind: mfa.KindTOTP})
//	res, err := m.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: uid, FactorID: en.FactorID, Response: code})
//	// end the recovery session; the user signs in with the new factor
//
// # States and events
//
//	pending  --Approve-->  approved  --Redeem-->  redeemed  --ConfirmEnrollment-->  completed
//	pending  --Deny-->     denied
//	pending, approved  --Cancel, owner signs in-->  cancelled
//	pending, approved, redeemed  --a hook or the notifier refused the move-->  cancelled
//
// Every move is a compare-and-set on the state in the store, so of
// concurrent moves from one state exactly one wins, on any number of
// instances. Each emits an [Event] naming its actor to Config.Hooks (the
// audit trail), and the case keeps its own history: EventOpened,
// EventApproved, EventDenied, EventCancelled, EventRedeemed,
// EventCompleted; a refused grant emits EventRefused; the operator
// actions of [Admin] emit EventUnlocked and EventCodesRegenerated.
//
// # Security
//
//   - Review and a waiting period. An approval takes effect no sooner
//     than Config.Wait (default 24 hours) after the case was opened. NIST
//     SP 800-63B rev 4's account-recovery guidance has the subscriber
//     told of a recovery through their addresses of record; the notice
//     is only useful if the owner has time to act on it. 24 hours is the
//     longest NIST lets a code sent to an email address of record live
//     (SP 800-63A rev 3, section 4.7, enrolment codes), the same bound
//     the suite uses for email elsewhere, so an owner who reads mail once
//     a day sees the notice before the
//     approval takes effect. New refuses a Wait under an hour.
//   - The owner wins. Any use of one of the user's factors after the case
//     was opened cancels it: at once with [Manager.Hook] on the
//     Verifier, and in any case when the case is approved or redeemed
//     (from the factors' last use), so a missing hook never lets a
//     recovery through past the owner.
//   - Every channel is told. Config.Notify is required; a case whose
//     notice fails is withdrawn.
//   - Single use, short lived. The grant token (256 random bits) is
//     stored only as a keyed hash (the Verifier's Hasher) and compared in
//     constant time; it works once, for its own user, between NotBefore
//     and Expires (Config.GrantTTL, default 24 hours). The enrolment it
//     allows must be confirmed within Config.EnrollWindow (default 10
//     minutes, the Verifier's default FreshFor), and only one factor is
//     ever confirmed under one grant.
//   - Below a normal login. [Grant.Result] is AAL1 with amr ["rec"]:
//     a session started from it fails session.MinAAL(mfa.AAL2), so it
//     reaches only the enrolment pages. Unless Config.KeepOldFactors, the
//     lost factors are removed when the new one is confirmed.
//   - Floods are capped: cases per user and per client address within
//     fixed windows (Config.Caps), counted before anything is stored.
//   - Operators: [Admin] acts only for a session at AAL2 or better, and
//     nobody decides their own case.
//   - Fail closed. Any error from the store, a hook or the notifier stops
//     the action; events and errors never carry a token.
package recovery
