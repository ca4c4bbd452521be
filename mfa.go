package mfa

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/mfakit/mfa/store"
)

// Config configures a [Verifier]. Store, Factors, Sealer and HashKey are
// required; every other field is safe when zero.
type Config struct {
	// Store keeps all state. Required.
	Store Store
	// Factors are the kinds offered, at most one per Kind. Required.
	Factors []Factor
	// Sealer encrypts secrets at rest (see [Keyring]). Required.
	Sealer Sealer
	// HashKey keys the hashes of codes and tokens: at least 32 random
	// bytes, kept outside the database. Required.
	HashKey []byte
	// Limits are the failure counters' rules. Zero fields take the
	// defaults documented on [Limits].
	Limits Limits
	// ChallengeTTL is how long a challenge lives. Default 5 minutes; at
	// most 10 minutes.
	ChallengeTTL time.Duration
	// EnrollTTL is how long a pending enrolment may wait for its
	// confirmation. Default 15 minutes.
	EnrollTTL time.Duration
	// FreshFor is how recent a second-factor verification must be to add,
	// remove or regenerate a factor. Default 10 minutes.
	FreshFor time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Rand is the source of IDs and secrets. Default crypto/rand.Reader.
	Rand io.Reader
	// Hooks receive every event. Default none.
	Hooks []Hook
	// Guard runs before every verification and may deny it. Default none.
	Guard Guard
}

// Limits holds the three failure-counter rules. Each attempt is counted
// against all of them before anything is compared; a success clears the
// user and factor counters and takes back only its own count from the IP
// counter, which so counts failures alone.
type Limits struct {
	// User counts one user's consecutive failures across every factor.
	// Defaults: Free 5, Base 30s, Max 1h, Cap 100 (the NIST SP 800-63B
	// ceiling; a larger Cap is refused), TTL 0 (consecutive failures are
	// never forgotten by time; a TTL is refused).
	User store.Rule
	// Factor counts failures of one factor. Defaults: Free 5, Base 30s,
	// Max 1h, no cap, TTL 24h.
	Factor store.Rule
	// IP counts failures from one client address across users. Defaults:
	// Free 20, Base 30s, Max 1h, no cap, TTL 1h. Applied only when a
	// request names an IP.
	IP store.Rule
}

// MaxFailures is the most consecutive failures any configuration allows
// before the second factor locks.
const MaxFailures = 100

// Input size limits; larger values are refused before anything is counted.
const (
	maxIDLen       = 256
	maxResponseLen = 64 << 10
)

func withDefaults(r, d store.Rule) store.Rule {
	if r.Free == 0 {
		r.Free = d.Free
	}
	if r.Base == 0 {
		r.Base = d.Base
	}
	if r.Max == 0 {
		r.Max = d.Max
	}
	if r.Cap == 0 {
		r.Cap = d.Cap
	}
	if r.TTL == 0 {
		r.TTL = d.TTL
	}
	return r
}

func (l Limits) withDefaults() (Limits, error) {
	l.User = withDefaults(l.User, store.Rule{Free: 5, Base: 30 * time.Second, Max: time.Hour, Cap: MaxFailures})
	l.Factor = withDefaults(l.Factor, store.Rule{Free: 5, Base: 30 * time.Second, Max: time.Hour, TTL: 24 * time.Hour})
	l.IP = withDefaults(l.IP, store.Rule{Free: 20, Base: 30 * time.Second, Max: time.Hour, TTL: time.Hour})
	for name, r := range map[string]store.Rule{"User": l.User, "Factor": l.Factor, "IP": l.IP} {
		if r.Free < 0 || r.Base < 0 || r.Max < 0 || r.Cap < 0 || r.TTL < 0 || r.Max < r.Base {
			return l, fmt.Errorf("%w: Limits.%s: negative value or Max below Base", ErrConfig, name)
		}
		if r.Cap > 0 && r.Free > r.Cap {
			return l, fmt.Errorf("%w: Limits.%s: Free above Cap", ErrConfig, name)
		}
	}
	if l.User.Cap > MaxFailures {
		return l, fmt.Errorf("%w: Limits.User.Cap %d is above %d", ErrConfig, l.User.Cap, MaxFailures)
	}
	if l.User.TTL != 0 {
		return l, fmt.Errorf("%w: Limits.User.TTL must be 0: consecutive failures are not forgotten by time", ErrConfig)
	}
	return l, nil
}

// Verifier is the one entry point: it enrols, challenges and verifies every
// factor kind, and around each factor's own check it enforces the limits,
// single use, sealing, events and fail-closed behaviour. It keeps no state
// between calls; any number of Verifiers sharing one store behave as one.
// It is safe for concurrent use.
type Verifier struct {
	store        Store
	factors      map[Kind]Factor
	sealer       Sealer
	hasher       *Hasher
	limits       Limits
	challengeTTL time.Duration
	enrollTTL    time.Duration
	freshFor     time.Duration
	now          func() time.Time
	rand         io.Reader
	hooks        []Hook
	guard        Guard
}

// New validates cfg and returns a Verifier.
func New(cfg Config) (*Verifier, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: Store is required", ErrConfig)
	}
	if cfg.Sealer == nil {
		return nil, fmt.Errorf("%w: Sealer is required", ErrConfig)
	}
	if len(cfg.Factors) == 0 {
		return nil, fmt.Errorf("%w: at least one Factor is required", ErrConfig)
	}
	h, err := NewHasher(cfg.HashKey)
	if err != nil {
		return nil, err
	}
	limits, err := cfg.Limits.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &Verifier{
		store:        cfg.Store,
		factors:      make(map[Kind]Factor, len(cfg.Factors)),
		sealer:       cfg.Sealer,
		hasher:       h,
		limits:       limits,
		challengeTTL: orDefault(cfg.ChallengeTTL, 5*time.Minute),
		enrollTTL:    orDefault(cfg.EnrollTTL, 15*time.Minute),
		freshFor:     orDefault(cfg.FreshFor, 10*time.Minute),
		now:          cfg.Now,
		rand:         cfg.Rand,
		hooks:        append([]Hook(nil), cfg.Hooks...),
		guard:        cfg.Guard,
	}
	for _, f := range cfg.Factors {
		if f == nil || f.Kind() == "" {
			return nil, fmt.Errorf("%w: nil factor or empty kind", ErrConfig)
		}
		if _, dup := v.factors[f.Kind()]; dup {
			return nil, fmt.Errorf("%w: two factors of kind %q", ErrConfig, f.Kind())
		}
		v.factors[f.Kind()] = f
	}
	if v.challengeTTL < 0 || v.challengeTTL > 10*time.Minute {
		return nil, fmt.Errorf("%w: ChallengeTTL must be at most 10 minutes", ErrConfig)
	}
	if v.enrollTTL < 0 || v.freshFor < 0 {
		return nil, fmt.Errorf("%w: negative duration", ErrConfig)
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.rand == nil {
		v.rand = rand.Reader
	}
	return v, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Hasher returns the Verifier's keyed hasher, for packages (sessions,
// devices) that store tokens under the same key.
func (v *Verifier) Hasher() *Hasher { return v.hasher }

// Result is a successful verification or confirmation.
type Result struct {
	UserID   string
	FactorID string
	Kind     Kind
	// AMR holds RFC 8176 values, e.g. "otp", "hwk", "user".
	AMR []string
	// AAL is the level a password plus this factor reaches.
	AAL  AAL
	Time time.Time
	// Remaining is the number of backup codes left; -1 for other kinds.
	Remaining int
}

// VerifyRequest asks to check one response.
type VerifyRequest struct {
	// UserID is the user signing in. It may be empty only for a kind that
	// names its user from the response (a discoverable passkey).
	UserID string
	// FactorID names the factor. When empty, Kind picks the user's only
	// active factor of that kind.
	FactorID string
	Kind     Kind
	// Response is what the user entered or the client sent.
	Response string
	// ChallengeID names the challenge, for kinds that issue one.
	ChallengeID string
	// Binding must equal the Binding the challenge was issued with.
	Binding string
	// IP is the client's address, for the per-IP counter. Optional.
	IP string
}

// Verify checks one response. The attempt is counted against the user,
// factor and IP counters before anything is compared; the accepted value
// is consumed atomically; any error on the way denies the attempt.
func (v *Verifier) Verify(ctx context.Context, req VerifyRequest) (*Result, error) {
	return v.verify(ctx, req, false, time.Time{})
}

// ConfirmRequest confirms a pending enrolment with a first proof.
type ConfirmRequest struct {
	UserID      string
	FactorID    string // the pending factor (kinds without a Registrar)
	ChallengeID string // the enrolment challenge (Registrar kinds)
	Response    string
	Name        string // Registrar kinds: the new factor's name
	IP          string
	// AuthTime is when the session last passed a second factor. It is
	// needed only if the user gained another active factor after this
	// enrolment began (BeginEnrollment asked for no fresh verification
	// then, and would now); it must then be within Config.FreshFor, or
	// the confirmation fails with ErrStepUpRequired.
	AuthTime time.Time
}

// ConfirmEnrollment makes a pending factor active once the user proves
// they hold it (a first TOTP code, a WebAuthn attestation). It is counted
// and limited exactly like Verify.
func (v *Verifier) ConfirmEnrollment(ctx context.Context, req ConfirmRequest) (*Result, error) {
	if req.ChallengeID != "" {
		return v.register(ctx, req)
	}
	return v.verify(ctx, VerifyRequest{UserID: req.UserID, FactorID: req.FactorID, Response: req.Response, IP: req.IP}, true, req.AuthTime)
}

func checkIDs(ids ...string) error {
	for _, id := range ids {
		if len(id) > maxIDLen {
			return fmt.Errorf("%w: identifier longer than %d bytes", ErrInvalidInput, maxIDLen)
		}
	}
	return nil
}

func (v *Verifier) counters(userID, factorID, ip string) []store.Counter {
	cs := make([]store.Counter, 2, 3)
	cs[0] = store.Counter{Key: store.CounterKey{Scope: store.ScopeUser, UserID: userID}, Rule: v.limits.User}
	cs[1] = store.Counter{Key: store.CounterKey{Scope: store.ScopeFactor, UserID: userID, FactorID: factorID}, Rule: v.limits.Factor}
	if ip != "" {
		cs = append(cs, store.Counter{Key: store.CounterKey{Scope: store.ScopeIP, IP: ip}, Rule: v.limits.IP})
	}
	return cs
}

// verify checks a sign-in response, or with confirm the first proof of a
// pending factor, for which authTime is the ConfirmRequest's.
func (v *Verifier) verify(ctx context.Context, req VerifyRequest, confirm bool, authTime time.Time) (*Result, error) {
	if err := checkIDs(req.UserID, req.FactorID, req.ChallengeID, req.Binding, req.IP, string(req.Kind)); err != nil {
		return nil, err
	}
	if len(req.Response) > maxResponseLen {
		return nil, fmt.Errorf("%w: response longer than %d bytes", ErrMalformedResponse, maxResponseLen)
	}
	if req.Binding == enrollBinding {
		return nil, fmt.Errorf("%w: reserved binding", ErrInvalidInput)
	}
	// A request that names no user is a passkey sign-in: it may only
	// answer a challenge issued to no user, never one issued as a second
	// step after some user's password.
	userless := req.UserID == ""
	if userless || (req.FactorID == "" && v.resolves(req.Kind)) {
		if err := v.resolve(ctx, &req); err != nil {
			return nil, v.unresolved(ctx, req, err)
		}
	}
	if req.FactorID == "" {
		if err := v.pickByKind(ctx, &req); err != nil {
			return nil, err
		}
	}
	now := v.now()
	ev := Event{UserID: req.UserID, FactorID: req.FactorID, Kind: req.Kind, IP: req.IP, Time: now, Remaining: -1}
	if v.guard != nil {
		if err := v.guard(ctx, Attempt{UserID: req.UserID, FactorID: req.FactorID, Kind: req.Kind, IP: req.IP, Confirm: confirm}); err != nil {
			return nil, v.fail(ctx, ev, wrap(ErrDenied, err))
		}
	}

	// Count first: nothing is compared until the store has admitted and
	// recorded this attempt as a failure.
	cs := v.counters(req.UserID, req.FactorID, req.IP)
	hit, err := v.store.Hit(ctx, store.HitRequest{Now: now, Counters: cs, Load: store.FactorRef{UserID: req.UserID, ID: req.FactorID}})
	if err != nil {
		return nil, v.fail(ctx, ev, wrap(ErrStore, err))
	}
	if !hit.Admitted {
		return nil, v.refuse(ctx, ev, hit)
	}
	if !hit.Found {
		return nil, v.fail(ctx, ev, ErrNotFound)
	}
	rec := hit.Factor
	ev.Kind = Kind(rec.Kind)
	if req.Kind != "" && req.Kind != ev.Kind {
		return nil, v.fail(ctx, ev, ErrNotFound)
	}
	f, ok := v.factors[ev.Kind]
	if !ok {
		return nil, v.fail(ctx, ev, ErrUnsupportedKind)
	}
	switch {
	case confirm && rec.Status != store.StatusPending:
		return nil, v.fail(ctx, ev, fmt.Errorf("%w: already confirmed", ErrNotEnrolled))
	case confirm && !now.Before(rec.Created.Add(v.enrollTTL)):
		return nil, v.fail(ctx, ev, fmt.Errorf("%w: enrolment not confirmed in time", ErrExpired))
	case !confirm && rec.Status != store.StatusActive:
		return nil, v.fail(ctx, ev, ErrNotEnrolled)
	}
	if confirm {
		if err := v.stillFresh(ctx, req.UserID, req.FactorID, rec.Created, authTime, now); err != nil {
			return nil, v.fail(ctx, ev, err)
		}
	}

	var ch *store.Challenge
	if _, isChallenger := f.(Challenger); isChallenger && !confirm {
		c, err := v.takeChallenge(ctx, req.ChallengeID, now)
		if err != nil {
			return nil, v.fail(ctx, ev, err)
		}
		if err := matchChallenge(c, req.UserID, req.FactorID, ev.Kind, req.Binding); err != nil {
			return nil, v.fail(ctx, ev, err)
		}
		// A passkey sign-in answers only a challenge issued to no user, and
		// a challenge issued to no user answers only a passkey sign-in:
		// otherwise its result (amr "mfa", a passkey's level) would stand
		// for a second step it never was.
		if userless != (c.UserID == "") {
			return nil, v.fail(ctx, ev, ErrChallengeMismatch)
		}
		ch = &c
	}

	secret, stale, err := v.open(ctx, rec)
	if err != nil {
		return nil, v.fail(ctx, ev, err)
	}
	defer clear(secret)
	in := VerifyInput{Factor: rec, Secret: secret, Response: req.Response, Challenge: ch, Now: now, Hasher: v.hasher}
	m, err := v.check(ctx, f, in, ev)
	if err != nil {
		return nil, err
	}

	// Commit: the compare-and-set consumes the accepted value; of two
	// concurrent uses of one value exactly one gets past it.
	for tries := 1; ; tries++ {
		err = v.store.Advance(ctx, store.Advance{
			UserID: req.UserID, FactorID: req.FactorID,
			From: in.Factor.Counter, To: m.Counter, Data: m.Data, Now: now,
			Reset: []store.CounterKey{cs[0].Key, cs[1].Key},
			// The IP counter counts failures only: the success takes back
			// its own count and leaves other users' failures from that
			// address.
			Forgive: cs[2:],
		})
		if !errors.Is(err, store.ErrConflict) || tries == maxCommitTries {
			break
		}
		// Another use of this factor committed first. Check the response
		// again against the state it left: the same value is now refused
		// as a replay, while another unused backup code still passes.
		fresh, gerr := v.store.GetFactor(ctx, req.UserID, req.FactorID)
		if errors.Is(gerr, store.ErrNotFound) {
			return nil, v.fail(ctx, ev, ErrNotFound)
		}
		if gerr != nil {
			return nil, v.fail(ctx, ev, wrap(ErrStore, gerr))
		}
		in.Factor.Counter, in.Factor.Data = fresh.Counter, fresh.Data
		if m, err = v.check(ctx, f, in, ev); err != nil {
			return nil, err
		}
	}
	if errors.Is(err, store.ErrConflict) {
		return nil, v.fail(ctx, ev, ErrReplayed)
	}
	if err != nil {
		return nil, v.fail(ctx, ev, wrap(ErrStore, err))
	}
	rec = in.Factor
	if confirm || stale {
		if m.Data != nil {
			rec.Data = m.Data // committed above; UpdateFactor must not undo it
		}
		if err := v.update(ctx, rec, secret, stale, confirm, now); err != nil {
			return nil, v.fail(ctx, ev, err)
		}
	}

	ev.Remaining = m.Remaining
	if confirm {
		ev.Type = EventEnrollConfirmed
	} else {
		ev.Type = EventVerifySucceeded
	}
	if err := v.emit(ctx, ev); err != nil {
		return nil, err
	}
	for _, t := range m.Notes {
		ev.Type = t
		if err := v.emit(ctx, ev); err != nil {
			return nil, err
		}
	}
	return &Result{
		UserID: req.UserID, FactorID: req.FactorID, Kind: ev.Kind,
		AMR: slices.Clone(m.AMR), AAL: m.AAL, Time: now, Remaining: m.Remaining,
	}, nil
}

// maxCommitTries bounds how often a verification re-checks its response
// after losing the compare-and-set to a concurrent one.
const maxCommitTries = 5

// check runs the factor's own check and, on a refusal, reports it along
// with any notes the factor returned (a sign-count regression).
func (v *Verifier) check(ctx context.Context, f Factor, in VerifyInput, ev Event) (Match, error) {
	m, err := f.Verify(ctx, in)
	if err == nil {
		return m, nil
	}
	err = v.fail(ctx, ev, classify(err))
	ev.Reason = reason(err)
	for _, t := range m.Notes {
		ev.Type = t
		if herr := v.emit(ctx, ev); herr != nil {
			return Match{}, errors.Join(err, herr)
		}
	}
	return Match{}, err
}

// update re-seals a secret opened with an old key and, for a
// confirmation, activates the factor.
func (v *Verifier) update(ctx context.Context, rec store.Factor, secret []byte, stale, confirm bool, now time.Time) error {
	if stale && secret != nil {
		sealed, err := v.sealer.Seal(ctx, secret, sealAD(rec.UserID, rec.ID))
		if err != nil {
			return wrap(ErrSealed, err)
		}
		rec.Secret = sealed
	}
	if confirm {
		rec.Status = store.StatusActive
		rec.Confirmed = now
	}
	if err := v.store.UpdateFactor(ctx, rec); err != nil {
		return wrap(ErrStore, err)
	}
	return nil
}

func (v *Verifier) open(ctx context.Context, rec store.Factor) (secret []byte, stale bool, err error) {
	if rec.Secret == nil {
		return nil, false, nil
	}
	secret, stale, err = v.sealer.Open(ctx, rec.Secret, sealAD(rec.UserID, rec.ID))
	if err != nil {
		return nil, false, wrap(ErrSealed, err)
	}
	return secret, stale, nil
}

// classify keeps a factor's error if it already wraps one of our
// sentinels, and otherwise treats it as a wrong response: an unknown error
// from a check must never admit, and must not leak detail to the client.
func classify(err error) error {
	for _, s := range [...]error{ErrWrongCode, ErrMalformedResponse, ErrReplayed, ErrSealed, ErrExpired, ErrChallengeMismatch, ErrInvalidInput} {
		if errors.Is(err, s) {
			return err
		}
	}
	return wrap(ErrWrongCode, err)
}

// resolves reports whether kind names its factor from the response.
func (v *Verifier) resolves(kind Kind) bool {
	_, ok := v.factors[kind].(Resolver)
	return ok
}

// resolve names the user and factor from the response for kinds that can
// (a discoverable passkey). When the request already names a user (or a
// factor), the response must name one of theirs.
func (v *Verifier) resolve(ctx context.Context, req *VerifyRequest) error {
	f, ok := v.factors[req.Kind]
	if !ok {
		return fmt.Errorf("%w: a user ID is required", ErrInvalidInput)
	}
	r, ok := f.(Resolver)
	if !ok {
		return fmt.Errorf("%w: a user ID is required for kind %q", ErrInvalidInput, req.Kind)
	}
	lookup, err := r.Resolve(ctx, req.Response)
	if err != nil {
		return classify(err)
	}
	rec, err := v.store.FindFactor(ctx, string(req.Kind), lookup)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return wrap(ErrStore, err)
	}
	if (req.UserID != "" && rec.UserID != req.UserID) || (req.FactorID != "" && rec.ID != req.FactorID) {
		return fmt.Errorf("%w: the response names a factor of another user", ErrNotFound)
	}
	req.UserID, req.FactorID = rec.UserID, rec.ID
	return nil
}

// unresolved reports a response that named no factor of the user. No
// secret was compared, but the attempt still counts against the client IP
// (there is no user to count it against yet) and emits a failure, so
// spraying credentials is limited and seen.
func (v *Verifier) unresolved(ctx context.Context, req VerifyRequest, err error) error {
	ev := Event{UserID: req.UserID, Kind: req.Kind, IP: req.IP, Time: v.now(), Remaining: -1}
	if req.IP != "" && !errors.Is(err, ErrStore) {
		ip := store.Counter{Key: store.CounterKey{Scope: store.ScopeIP, IP: req.IP}, Rule: v.limits.IP}
		hit, herr := v.store.Hit(ctx, store.HitRequest{Now: ev.Time, Counters: []store.Counter{ip}})
		if herr != nil {
			return v.fail(ctx, ev, wrap(ErrStore, herr))
		}
		if !hit.Admitted {
			return v.refuse(ctx, ev, hit)
		}
	}
	return v.fail(ctx, ev, err)
}

func (v *Verifier) pickByKind(ctx context.Context, req *VerifyRequest) error {
	if req.Kind == "" {
		return fmt.Errorf("%w: a factor ID or kind is required", ErrInvalidInput)
	}
	if req.UserID == "" {
		return fmt.Errorf("%w: a user ID is required", ErrInvalidInput)
	}
	list, err := v.store.ListFactors(ctx, req.UserID)
	if err != nil {
		return wrap(ErrStore, err)
	}
	found := ""
	for _, f := range list {
		if Kind(f.Kind) != req.Kind || f.Status != store.StatusActive {
			continue
		}
		if found != "" {
			return fmt.Errorf("%w: several factors of kind %q; name one", ErrInvalidInput, req.Kind)
		}
		found = f.ID
	}
	if found == "" {
		return ErrNotFound
	}
	req.FactorID = found
	return nil
}

func (v *Verifier) takeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	if id == "" {
		return store.Challenge{}, fmt.Errorf("%w: a challenge ID is required", ErrExpired)
	}
	c, err := v.store.TakeChallenge(ctx, id, now)
	if errors.Is(err, store.ErrNotFound) {
		return c, ErrExpired
	}
	if err != nil {
		return c, wrap(ErrStore, err)
	}
	return c, nil
}

// matchChallenge checks a taken challenge belongs to this attempt. A
// user-less challenge (passkey sign-in) matches any user.
func matchChallenge(c store.Challenge, userID, factorID string, kind Kind, binding string) error {
	ok := Kind(c.Kind) == kind &&
		(c.UserID == "" || c.UserID == userID) &&
		(c.FactorID == "" || c.FactorID == factorID) &&
		subtle.ConstantTimeCompare([]byte(c.Binding), []byte(binding)) == 1
	if !ok {
		return ErrChallengeMismatch
	}
	return nil
}

// refuse reports a rate-limited or locked attempt.
func (v *Verifier) refuse(ctx context.Context, ev Event, hit store.HitResult) error {
	var err error
	if hit.Locked {
		ev.Type, ev.Reason = EventLocked, ErrLocked.Error()
		err = ErrLocked
	} else {
		ev.Type, ev.Reason, ev.RetryAfter = EventRateLimited, ErrRateLimited.Error(), hit.RetryAfter
		err = &RateLimitError{RetryAfter: hit.RetryAfter}
	}
	if herr := v.emit(ctx, ev); herr != nil {
		return errors.Join(err, herr)
	}
	return err
}

// fail reports a failed attempt: an event carrying the sentinel's text (not
// the cause, which may quote input) and the error.
func (v *Verifier) fail(ctx context.Context, ev Event, err error) error {
	ev.Type = EventVerifyFailed
	if errors.Is(err, ErrReplayed) {
		ev.Type = EventReplayRefused
	}
	ev.Reason = reason(err)
	if herr := v.emit(ctx, ev); herr != nil {
		return errors.Join(err, herr)
	}
	return err
}

var sentinels = [...]error{
	ErrInvalidInput, ErrMalformedResponse, ErrWrongCode, ErrReplayed, ErrRateLimited, ErrLocked,
	ErrExpired, ErrChallengeMismatch, ErrNotFound, ErrNotEnrolled, ErrUnsupportedKind,
	ErrStepUpRequired, ErrSealed, ErrDenied, ErrStore,
}

func reason(err error) string {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "mfa: error"
}

// emit delivers ev to every hook; the first error stops delivery and is
// returned wrapped in ErrDenied.
func (v *Verifier) emit(ctx context.Context, ev Event) error {
	for _, h := range v.hooks {
		if err := h(ctx, ev); err != nil {
			return wrap(ErrDenied, err)
		}
	}
	return nil
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns 128 random bits as lowercase-free base32 text.
func (v *Verifier) newID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(v.rand, b[:]); err != nil {
		return "", fmt.Errorf("mfa: random: %w", err)
	}
	return idEncoding.EncodeToString(b[:]), nil
}

// Unlock clears every failure counter of a user: the operator's way out of
// a lock after the cap. It emits EventUnlocked.
func (v *Verifier) Unlock(ctx context.Context, userID string) error {
	if userID == "" {
		return fmt.Errorf("%w: a user ID is required", ErrInvalidInput)
	}
	if err := checkIDs(userID); err != nil {
		return err
	}
	list, err := v.store.ListFactors(ctx, userID)
	if err != nil {
		return wrap(ErrStore, err)
	}
	keys := []store.CounterKey{{Scope: store.ScopeUser, UserID: userID}}
	for _, f := range list {
		keys = append(keys, store.CounterKey{Scope: store.ScopeFactor, UserID: userID, FactorID: f.ID})
	}
	if err := v.store.Reset(ctx, keys...); err != nil {
		return wrap(ErrStore, err)
	}
	return v.emit(ctx, Event{Type: EventUnlocked, Time: v.now(), UserID: userID, Remaining: -1})
}
