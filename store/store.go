// Package store defines the storage contract of the mfa library: the records
// it keeps and the small interfaces a backend implements to keep them.
//
// The caller owns storage. A [Store] is every concern at once; each concern
// ([Factors], [Limits], [Challenges], [Marks], [Sessions], [Devices]) is its
// own interface so a backend can be read, reviewed and tested one concern at
// a time. Backends in this module: store/memstore (in process),
// store/sqlstore (PostgreSQL, MySQL/MariaDB, SQLite) and store/redisstore.
//
// # Contract
//
// Every method takes a context first and may be called concurrently from
// many goroutines and from many processes sharing one database. A missing or
// expired record is reported by an error that wraps [ErrNotFound]; an
// insert that finds its key taken wraps [ErrExists]; a compare-and-set whose
// expectation no longer holds wraps [ErrConflict]. Anything the contract
// calls atomic is one method, so a backend can make it one statement, one
// transaction or one script: there is never a read followed by a write in
// the caller.
//
// Times are always passed in by the caller (from an injected clock); a
// backend never reads its own clock to decide whether a record has expired,
// so tests drive expiry without sleeping.
//
// # Security
//
// The records hold no plaintext secret: TOTP seeds arrive sealed (an AEAD
// ciphertext bound to user and factor), codes and tokens arrive as keyed
// hashes. A backend stores bytes as given and must not log them.
//
// The conformance suite in store/storetest checks all of this, concurrency
// included; every backend runs it.
package store

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors a backend wraps. They are matched with errors.Is.
var (
	// ErrNotFound: the record does not exist or has expired.
	ErrNotFound = errors.New("mfa: store: not found")
	// ErrExists: an insert found its key (or a unique lookup key) taken.
	ErrExists = errors.New("mfa: store: already exists")
	// ErrConflict: a compare-and-set found a value other than the one expected.
	ErrConflict = errors.New("mfa: store: conflict")
	// ErrReused: a refresh token that was already rotated was presented again;
	// the session has been revoked as part of the same operation.
	ErrReused = errors.New("mfa: store: refresh token reused")
)

// Store is every concern of the contract in one value. A backend implements
// all of it; an application may also compose one from several backends (see
// [Split]).
type Store interface {
	Factors
	Limits
	Challenges
	Marks
	Sessions
	Devices
}

// Status is the life-cycle state of a factor.
type Status string

const (
	// StatusPending: enrolment begun, not yet confirmed with a first proof.
	// A pending factor cannot be used to sign in.
	StatusPending Status = "pending"
	// StatusActive: confirmed and usable.
	StatusActive Status = "active"
)

// Factor is one enrolled authenticator of one user.
type Factor struct {
	UserID string
	ID     string // unique per user
	Kind   string // e.g. "totp", "backup_codes", "webauthn"
	Name   string // chosen by the user, shown in lists
	Status Status

	// Lookup is an optional key unique across all users for one Kind (for
	// example a WebAuthn credential ID). Empty means none.
	Lookup string

	// Secret is sealed by the caller (an AEAD ciphertext); nil when the kind
	// keeps no secret. A backend stores it as opaque bytes.
	Secret []byte
	// Data is the kind's non-secret state (public keys, code hashes).
	Data []byte
	// Counter is the kind's monotonic single-use state: the last accepted
	// TOTP step, the used-code bitmap of a backup code set, a WebAuthn sign
	// count. It changes only through [Factors.Advance].
	Counter int64

	Created   time.Time
	Confirmed time.Time // zero while pending
	LastUsed  time.Time // set by Advance
}

// FactorRef names one factor of one user.
type FactorRef struct {
	UserID string
	ID     string
}

// Factors keeps enrolled factors.
type Factors interface {
	// CreateFactor inserts f. It wraps ErrExists when the user already has a
	// factor with f.ID, or when f.Lookup is non-empty and taken by any
	// factor of the same Kind.
	CreateFactor(ctx context.Context, f Factor) error
	// GetFactor returns one factor or an error wrapping ErrNotFound.
	GetFactor(ctx context.Context, userID, id string) (Factor, error)
	// FindFactor returns the factor of the given kind whose Lookup equals
	// lookup, or an error wrapping ErrNotFound.
	FindFactor(ctx context.Context, kind, lookup string) (Factor, error)
	// ListFactors returns all factors of a user, pending ones included,
	// ordered by Created then ID. No factors is an empty slice, not an error.
	ListFactors(ctx context.Context, userID string) ([]Factor, error)
	// UpdateFactor replaces Name, Status, Secret, Data and Confirmed of an
	// existing factor. It never changes Counter, Kind, Lookup or Created. It
	// wraps ErrNotFound when the factor does not exist.
	UpdateFactor(ctx context.Context, f Factor) error
	// DeleteFactor removes a factor, whatever its Status; ErrNotFound when
	// there is none.
	DeleteFactor(ctx context.Context, userID, id string) error
	// DeletePendingFactor removes a factor only while its Status is
	// StatusPending, checking and deleting in one atomic operation. It
	// wraps ErrNotFound when there is no such factor and ErrConflict when
	// the factor exists but is not pending; nothing is deleted then. Of
	// it and a concurrent UpdateFactor that activates the factor, exactly
	// one succeeds: the delete (the update then wraps ErrNotFound) or the
	// activation (the delete then wraps ErrConflict).
	DeletePendingFactor(ctx context.Context, userID, id string) error
	// Advance atomically sets the factor's Counter to req.To if and only if
	// it currently equals req.From, and then, in the same operation, sets
	// LastUsed to req.Now, replaces Data when req.Data is non-nil, resets
	// the counters named in req.Reset and forgives those in req.Forgive
	// (a sharded backend may do these last two just after the
	// compare-and-set rather than in it). When Counter is not req.From
	// nothing changes and the error wraps ErrConflict. Of N concurrent
	// calls with the same From, exactly one succeeds.
	Advance(ctx context.Context, req Advance) error
}

// Advance is the argument of [Factors.Advance]: the commit of a successful
// verification.
type Advance struct {
	UserID   string
	FactorID string
	From, To int64
	Data     []byte // nil keeps the stored Data
	Now      time.Time
	Reset    []CounterKey // failure counters cleared by the success
	// Forgive takes back this attempt's up-front count from counters that
	// must count failures only, such as a client IP's, whose other
	// failures a success must not clear: each one moves to
	// Rule.Forgive(state, Now).
	Forgive []Counter
}

// Scope says what a failure counter counts.
type Scope string

const (
	ScopeUser   Scope = "user"   // one user, across all factors
	ScopeFactor Scope = "factor" // one factor of one user
	ScopeIP     Scope = "ip"     // one client address, across users
)

// CounterKey names one failure counter. Fields a scope does not use are empty.
type CounterKey struct {
	Scope    Scope
	UserID   string
	FactorID string
	IP       string
}

// String is the canonical text form of the key, the same in every backend:
// the scope and its fields, each escaped so no user or factor ID can forge
// another key.
func (k CounterKey) String() string {
	var b strings.Builder
	b.WriteString(string(k.Scope))
	for _, s := range [...]string{k.UserID, k.FactorID, k.IP} {
		b.WriteByte('|')
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	return b.String()
}

// Rule is the policy of one counter. Backends apply it exactly as
// [Rule.Apply] describes, so every backend locks at the same moment.
type Rule struct {
	// Free is the number of failures admitted without delay. After the
	// Free-th failure every further attempt waits.
	Free int
	// Base is the first delay; each further failure doubles it, up to Max.
	Base, Max time.Duration
	// Cap locks the counter once it reaches Cap failures until a Reset
	// (an operator's unlock, or a success counted before the cap). 0: no cap.
	Cap int
	// TTL forgets an idle counter this long after its last failure. 0 keeps
	// it until reset, as consecutive-failure counts must be.
	TTL time.Duration
}

// Counter is one key and its rule, as passed to [Limits.Hit].
type Counter struct {
	Key  CounterKey
	Rule Rule
}

// CounterState is what a backend keeps per key.
type CounterState struct {
	Failures int
	Until    time.Time // no attempt before this instant
	Expires  time.Time // zero: never (Rule.TTL == 0)
}

// Blocked reports whether the state refuses an attempt at now, and until
// when (zero for a hard lock).
func (r Rule) Blocked(s CounterState, now time.Time) (blocked, hard bool, until time.Time) {
	if !s.Expires.IsZero() && !now.Before(s.Expires) {
		return false, false, time.Time{} // forgotten
	}
	if r.Cap > 0 && s.Failures >= r.Cap {
		return true, true, time.Time{}
	}
	if now.Before(s.Until) {
		return true, false, s.Until
	}
	return false, false, time.Time{}
}

// Apply returns the state after one admitted attempt at now is counted as a
// failure: the count grows by one (from zero when the state had expired),
// the delay is set once the count reaches Free, and the expiry moves.
func (r Rule) Apply(s CounterState, now time.Time) CounterState {
	if !s.Expires.IsZero() && !now.Before(s.Expires) {
		s = CounterState{}
	}
	s.Failures++
	if r.Free > 0 && s.Failures >= r.Free {
		s.Until = now.Add(r.Delay(s.Failures))
	}
	if r.TTL > 0 {
		s.Expires = now.Add(r.TTL)
	}
	return s
}

// Decide applies [Rule.Blocked] to every counter of req, given each one's
// stored state, exactly as [Limits.Hit] must: when any blocks, the refusal
// (Locked for a cap, else the latest Until as RetryAfter); otherwise a
// result with Admitted set. Backends that decide in Go call it so they all
// decide alike.
func Decide(req HitRequest, state func(CounterKey) CounterState) HitResult {
	var res HitResult
	blocked := false
	for _, c := range req.Counters {
		b, hard, until := c.Rule.Blocked(state(c.Key), req.Now)
		switch {
		case !b:
		case hard:
			blocked, res.Locked = true, true
		case until.After(res.RetryAfter):
			blocked, res.RetryAfter = true, until
		default:
			blocked = true
		}
	}
	if res.Locked {
		res.RetryAfter = time.Time{} // only a Reset admits again
	}
	res.Admitted = !blocked
	return res
}

// Forgive returns the state after one counted attempt is taken back, as a
// success does on a counter that counts failures only: one failure less
// (never below zero) and no delay once the count is below Free. A missing
// or expired state is returned unchanged.
func (r Rule) Forgive(s CounterState, now time.Time) CounterState {
	if s.Failures == 0 || (!s.Expires.IsZero() && !now.Before(s.Expires)) {
		return s
	}
	s.Failures--
	if s.Failures < r.Free {
		s.Until = time.Time{}
	}
	return s
}

// Delay is the wait imposed after the given number of failures: Base after
// the Free-th, doubling with each further failure, never above Max. It never
// shrinks as failures grow.
func (r Rule) Delay(failures int) time.Duration {
	if r.Free <= 0 || failures < r.Free || r.Base <= 0 {
		return 0
	}
	d := r.Base
	for i := r.Free; i < failures; i++ {
		if r.Max > 0 && d >= r.Max {
			break
		}
		if d > math.MaxInt64/2 {
			// Doubling would wrap to a negative delay (no Max, or one
			// near the largest Duration): stay at the largest instead.
			d = math.MaxInt64
			break
		}
		d *= 2
	}
	if r.Max > 0 && d > r.Max {
		d = r.Max
	}
	return d
}

// HitRequest is the argument of [Limits.Hit].
type HitRequest struct {
	Now      time.Time
	Counters []Counter
	// Load, when its ID is non-empty, asks for that factor in the same
	// round trip when the attempt is admitted.
	Load FactorRef
}

// HitResult is what [Limits.Hit] decided.
type HitResult struct {
	Admitted bool
	// Locked: some counter reached its Cap; only a Reset admits again.
	Locked bool
	// RetryAfter: when refused by a delay, the earliest instant at which
	// every counter admits again.
	RetryAfter time.Time
	// Found reports that the factor named by HitRequest.Load exists; it is
	// then in Factor. Both are zero when nothing was loaded or the attempt
	// was not admitted.
	Found  bool
	Factor Factor
}

// Limits keeps failure counters. Every attempt is counted before any secret
// is compared: the caller counts it as a failure up front and clears the
// counters in the success commit ([Factors.Advance] with Reset).
type Limits interface {
	// Hit atomically decides and counts one attempt against every counter in
	// req. If any counter is blocked at req.Now (see [Rule.Blocked]) nothing
	// is counted and the result is not admitted: Locked when a cap is
	// reached, else RetryAfter is the latest Until among blocked counters.
	// Otherwise every counter moves to Rule.Apply(state, req.Now) and the
	// attempt is admitted. Of N concurrent hits on a counter with Free f and
	// no earlier failures, at most f are admitted.
	Hit(ctx context.Context, req HitRequest) (HitResult, error)
	// Reset clears the named counters. Clearing a missing counter is not an
	// error.
	Reset(ctx context.Context, keys ...CounterKey) error
	// Forgive moves each named counter to Rule.Forgive(state, now): the
	// same as [Advance.Forgive], for a [Split] whose counters live apart
	// from its factors. A missing counter is not an error.
	Forgive(ctx context.Context, now time.Time, counters ...Counter) error
	// CounterState returns the current state of one counter as stored, for
	// operators and tests; a missing counter is the zero state.
	CounterState(ctx context.Context, key CounterKey) (CounterState, error)
}

// Challenge is a short-lived, single-use challenge issued to one user (or,
// for discoverable-credential sign-in, to no user yet).
type Challenge struct {
	ID       string // random, unique
	UserID   string // may be empty for a user-less challenge
	FactorID string // may be empty when the challenge is for a kind
	Kind     string
	// Binding ties the challenge to the sign-in attempt that asked for it,
	// e.g. the ID of an MFA-pending token.
	Binding string
	// Data is the kind's state: a keyed hash of an emailed code, WebAuthn
	// session data. Never a plaintext code.
	Data    []byte
	Created time.Time
	Expires time.Time
}

// Challenges keeps issued challenges until they are taken or expire.
type Challenges interface {
	// PutChallenge stores c; ErrExists if its ID is taken.
	PutChallenge(ctx context.Context, c Challenge) error
	// TakeChallenge atomically removes and returns the challenge. A missing
	// challenge, or one whose Expires is not after now, wraps ErrNotFound
	// (an expired one is removed too). Of N concurrent takes, exactly one
	// gets the challenge.
	TakeChallenge(ctx context.Context, id string, now time.Time) (Challenge, error)
}

// Marks records that a one-time value has been used.
type Marks interface {
	// Mark atomically records key as used until expires (zero: forever). If
	// key is already marked and not expired at now, nothing changes and the
	// error wraps ErrExists. Of N concurrent marks of one key, exactly one
	// succeeds.
	Mark(ctx context.Context, key string, now, expires time.Time) error
}

// Session is one signed-in session: a refresh-token family.
type Session struct {
	ID     string
	UserID string
	// Refresh is the keyed hash of the current refresh token.
	Refresh []byte
	// Data is the caller's claims (assurance level, amr, auth_time) as
	// opaque bytes.
	Data     []byte
	Created  time.Time
	LastUsed time.Time
	// IdleExpires and Expires bound the session; the caller moves
	// IdleExpires on every refresh.
	IdleExpires time.Time
	Expires     time.Time
	Revoked     bool
}

// Rotate is the argument of [Sessions.RotateRefresh].
type Rotate struct {
	SessionID   string
	Old, New    []byte // keyed hashes of the presented and the next token
	Data        []byte // nil keeps the stored Data (a step-up replaces it)
	Now         time.Time
	IdleExpires time.Time
}

// Sessions keeps refresh-token families.
type Sessions interface {
	// CreateSession stores s; ErrExists if its ID is taken.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns a session, revoked or not, until it is deleted; an
	// unknown one wraps ErrNotFound.
	GetSession(ctx context.Context, id string) (Session, error)
	// RotateRefresh atomically replaces the session's current refresh hash.
	// When the session is unknown, revoked, or past IdleExpires or Expires
	// at req.Now: ErrNotFound. When req.Old is the current hash: it becomes
	// retired, req.New becomes current, LastUsed, IdleExpires (and Data if
	// non-nil) are updated and the updated session is returned. When
	// req.Old is a hash this session retired earlier: the session is revoked
	// in the same operation and the error wraps ErrReused. Any other hash:
	// ErrNotFound, nothing changes. Of N concurrent rotations presenting the
	// same current hash, exactly one succeeds.
	RotateRefresh(ctx context.Context, req Rotate) (Session, error)
	// RevokeSession marks one session revoked; ErrNotFound if unknown.
	RevokeSession(ctx context.Context, id string) error
	// RevokeUserSessions marks every session of a user revoked and returns
	// how many were live.
	RevokeUserSessions(ctx context.Context, userID string) (int, error)
	// ListSessions returns a user's sessions that are not revoked, ordered
	// by Created then ID.
	ListSessions(ctx context.Context, userID string) ([]Session, error)
}

// Device is a remembered device: a user's browser trusted for a while in
// place of a second factor, when the application's policy allows it.
type Device struct {
	ID       string
	UserID   string
	Hash     []byte // keyed hash of the device token
	Name     string
	Created  time.Time
	LastUsed time.Time
	Expires  time.Time
}

// Devices keeps remembered devices.
type Devices interface {
	// CreateDevice stores d; ErrExists if its ID is taken.
	CreateDevice(ctx context.Context, d Device) error
	// GetDevice returns a device that has not expired at now, or ErrNotFound.
	GetDevice(ctx context.Context, id string, now time.Time) (Device, error)
	// ListDevices returns a user's devices not expired at now, ordered by
	// Created then ID.
	ListDevices(ctx context.Context, userID string, now time.Time) ([]Device, error)
	// DeleteDevice removes one device of a user; ErrNotFound if none.
	DeleteDevice(ctx context.Context, userID, id string) error
	// DeleteUserDevices removes every device of a user and returns how many.
	DeleteUserDevices(ctx context.Context, userID string) (int, error)
}

// Sweeper is implemented by backends that keep expired rows until asked:
// Sweep deletes every challenge, mark, counter, session and device expired
// at now and returns how many rows went. A scheduled job calls it; nothing
// in this module starts a goroutine to do so.
type Sweeper interface {
	Sweep(ctx context.Context, now time.Time) (int64, error)
}
