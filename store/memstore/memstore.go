// Package memstore is an in-process store: every record lives in Go
// maps behind one mutex.
//
// It implements every concern of package store ([store.Factors],
// [store.Counters], [store.Challenges], [store.Sessions], [store.Devices])
// and [store.Sweeper], concurrency included, and passes the same
// conformance suite (store/storetest) as the database backends. One mutex
// makes every method atomic, which is simple to check and fast enough for
// a single process: no method does I/O.
//
// Byte slices are copied on the way in and on the way out, so a caller
// never shares memory with the store. Hit and Advance do not allocate except
// to return a loaded factor's bytes (or to store new Data), which keeps the
// verification path cheap.
//
// # Security
//
// The state is process-local. Two instances of an application each have
// their own memstore, so failure counters, challenges and
// refresh-token families are not shared: an attacker who reaches several
// instances gets each instance's attempt budget, and a code used on one
// instance can be replayed on another. Use memstore for tests, examples and
// applications that run as exactly one process; anything behind a load
// balancer or on serverless needs a shared backend (store/sqlstore or
// store/redisstore).
//
// Nothing survives a restart: enrolled factors are lost with the process.
// Expired records are kept until [Store.Sweep] removes them.
package memstore

import (
	"cmp"
	"context"
	"crypto/subtle"
	"slices"
	"sync"
	"time"

	"github.com/mfakit/mfa/store"
)

// Store keeps every concern of package store in memory, and is a
// [store.Sweeper]. Create one with
// [New]; it is safe for concurrent use.
type Store struct {
	mu         sync.Mutex
	factors    map[string]map[string]*store.Factor // user ID, then factor ID
	lookups    map[lookupKey]store.FactorRef
	counters   map[store.CounterKey]store.CounterState
	challenges map[string]store.Challenge
	sessions   map[string]*session
	devices    map[string]store.Device
}

var (
	_ store.Factors    = (*Store)(nil)
	_ store.Counters   = (*Store)(nil)
	_ store.Challenges = (*Store)(nil)
	_ store.Sessions   = (*Store)(nil)
	_ store.Devices    = (*Store)(nil)
	_ store.Sweeper    = (*Store)(nil)
)

type lookupKey struct{ kind, lookup string }

type session struct {
	store.Session
	retired [][]byte // refresh hashes rotated away, for reuse detection
}

// New returns an empty store.
func New() *Store {
	return &Store{
		factors:    make(map[string]map[string]*store.Factor),
		lookups:    make(map[lookupKey]store.FactorRef),
		counters:   make(map[store.CounterKey]store.CounterState),
		challenges: make(map[string]store.Challenge),
		sessions:   make(map[string]*session),
		devices:    make(map[string]store.Device),
	}
}

// clone returns b copied, keeping nil as nil.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// cloneFactor copies f with its Secret and Data in one allocation.
func cloneFactor(f *store.Factor) store.Factor {
	c := *f
	n := len(f.Secret) + len(f.Data)
	if n == 0 {
		c.Secret, c.Data = emptyLike(f.Secret), emptyLike(f.Data)
		return c
	}
	buf := make([]byte, n)
	ls := copy(buf, f.Secret)
	copy(buf[ls:], f.Data)
	c.Secret, c.Data = nil, nil
	if f.Secret != nil {
		c.Secret = buf[:ls:ls] // capped, so appending to Secret cannot reach Data
	}
	if f.Data != nil {
		c.Data = buf[ls:]
	}
	return c
}

// emptyLike is nil for nil and a fresh empty slice otherwise.
func emptyLike(b []byte) []byte {
	if b == nil {
		return nil
	}
	return []byte{}
}

func (s *Store) factor(userID, id string) *store.Factor {
	return s.factors[userID][id]
}

// CreateFactor implements [store.Factors].
func (s *Store) CreateFactor(ctx context.Context, f store.Factor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.factor(f.UserID, f.ID) != nil {
		return store.ErrExists
	}
	lk := lookupKey{f.Kind, f.Lookup}
	if f.Lookup != "" {
		if _, taken := s.lookups[lk]; taken {
			return store.ErrExists
		}
		s.lookups[lk] = store.FactorRef{UserID: f.UserID, ID: f.ID}
	}
	c := cloneFactor(&f)
	user := s.factors[f.UserID]
	if user == nil {
		user = make(map[string]*store.Factor)
		s.factors[f.UserID] = user
	}
	user[f.ID] = &c
	return nil
}

// GetFactor implements [store.Factors].
func (s *Store) GetFactor(ctx context.Context, userID, id string) (store.Factor, error) {
	if err := ctx.Err(); err != nil {
		return store.Factor{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.factor(userID, id)
	if f == nil {
		return store.Factor{}, store.ErrNotFound
	}
	return cloneFactor(f), nil
}

// FindFactor implements [store.Factors]. An empty lookup finds nothing.
func (s *Store) FindFactor(ctx context.Context, kind, lookup string) (store.Factor, error) {
	if err := ctx.Err(); err != nil {
		return store.Factor{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, ok := s.lookups[lookupKey{kind, lookup}]
	if !ok || lookup == "" {
		return store.Factor{}, store.ErrNotFound
	}
	return cloneFactor(s.factor(ref.UserID, ref.ID)), nil
}

// ListFactors implements [store.Factors].
func (s *Store) ListFactors(ctx context.Context, userID string) ([]store.Factor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]store.Factor, 0, len(s.factors[userID]))
	for _, f := range s.factors[userID] {
		list = append(list, cloneFactor(f))
	}
	slices.SortFunc(list, func(a, b store.Factor) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// UpdateFactor implements [store.Factors].
func (s *Store) UpdateFactor(ctx context.Context, f store.Factor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.factor(f.UserID, f.ID)
	if cur == nil {
		return store.ErrNotFound
	}
	cur.Name = f.Name
	cur.Status = f.Status
	cur.Secret = clone(f.Secret)
	cur.Data = clone(f.Data)
	cur.Confirmed = f.Confirmed
	return nil
}

// DeleteFactor implements [store.Factors].
func (s *Store) DeleteFactor(ctx context.Context, userID, id string) error {
	return s.deleteIf(ctx, userID, id, false)
}

// DeletePendingFactor implements [store.Factors].
func (s *Store) DeletePendingFactor(ctx context.Context, userID, id string) error {
	return s.deleteIf(ctx, userID, id, true)
}

// deleteIf deletes a factor, when pendingOnly only while it is pending.
func (s *Store) deleteIf(ctx context.Context, userID, id string, pendingOnly bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.factor(userID, id)
	if f == nil {
		return store.ErrNotFound
	}
	if pendingOnly && f.Status != store.StatusPending {
		return store.ErrConflict
	}
	s.deleteFactor(f)
	return nil
}

// deleteFactor removes f and its lookup key; s.mu is held.
func (s *Store) deleteFactor(f *store.Factor) {
	if f.Lookup != "" {
		delete(s.lookups, lookupKey{f.Kind, f.Lookup})
	}
	delete(s.factors[f.UserID], f.ID)
	if len(s.factors[f.UserID]) == 0 {
		delete(s.factors, f.UserID)
	}
}

// Advance implements [store.Factors].
func (s *Store) Advance(ctx context.Context, req store.Advance) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.factor(req.UserID, req.FactorID)
	if f == nil {
		return store.ErrNotFound
	}
	if f.Counter != req.From {
		return store.ErrConflict
	}
	f.Counter = req.To
	f.LastUsed = req.Now
	if req.Data != nil {
		// The stored Data is never shared with a caller, so its memory can
		// be reused; cap it so the copy cannot overwrite anything after it.
		f.Data = append(f.Data[:0:cap(f.Data)], req.Data...)
	}
	for _, k := range req.Reset {
		delete(s.counters, k)
	}
	s.forgive(req.Now, req.Forgive)
	return nil
}

// Forgive implements [store.Counters].
func (s *Store) Forgive(ctx context.Context, now time.Time, counters ...store.Counter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgive(now, counters)
	return nil
}

func (s *Store) forgive(now time.Time, counters []store.Counter) {
	for _, c := range counters {
		if st, ok := s.counters[c.Key]; ok {
			s.counters[c.Key] = c.Rule.Forgive(st, now)
		}
	}
}

// Hit implements [store.Counters]: the decision, the counting and the load of
// req.Load happen under one lock.
func (s *Store) Hit(ctx context.Context, req store.HitRequest) (store.HitResult, error) {
	if err := ctx.Err(); err != nil {
		return store.HitResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res := store.Decide(req, func(k store.CounterKey) store.CounterState { return s.counters[k] })
	if !res.Admitted {
		return res, nil
	}
	for _, c := range req.Counters {
		s.counters[c.Key] = c.Rule.Apply(s.counters[c.Key], req.Now)
	}
	if req.Load.ID != "" {
		if f := s.factor(req.Load.UserID, req.Load.ID); f != nil {
			res.Factor, res.Found = cloneFactor(f), true
		}
	}
	return res, nil
}

// Reset implements [store.Counters].
func (s *Store) Reset(ctx context.Context, keys ...store.CounterKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.counters, k)
	}
	return nil
}

// CounterState implements [store.Counters]. An expired counter that has not
// been swept is returned as stored.
func (s *Store) CounterState(ctx context.Context, key store.CounterKey) (store.CounterState, error) {
	if err := ctx.Err(); err != nil {
		return store.CounterState{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters[key], nil
}

// PutChallenge implements [store.Challenges]. An expired challenge that has
// not been taken or swept still holds its ID.
func (s *Store) PutChallenge(ctx context.Context, c store.Challenge) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.challenges[c.ID]; taken {
		return store.ErrExists
	}
	c.Data = clone(c.Data)
	s.challenges[c.ID] = c
	return nil
}

// TakeChallenge implements [store.Challenges].
func (s *Store) TakeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	if err := ctx.Err(); err != nil {
		return store.Challenge{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.challenges[id]
	if !ok {
		return store.Challenge{}, store.ErrNotFound
	}
	delete(s.challenges, id)
	if !c.Expires.After(now) {
		return store.Challenge{}, store.ErrNotFound
	}
	return c, nil // the stored Data is handed over, no longer referenced here
}

// live reports whether a record with the given expiry (zero: never) is
// still valid at now. A record expires at its Expires instant.
func live(expires, now time.Time) bool {
	return expires.IsZero() || now.Before(expires)
}

func copySession(s *store.Session) store.Session {
	c := *s
	c.Refresh = clone(s.Refresh)
	c.Data = clone(s.Data)
	return c
}

// CreateSession implements [store.Sessions].
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.sessions[sess.ID]; taken {
		return store.ErrExists
	}
	s.sessions[sess.ID] = &session{Session: copySession(&sess)}
	return nil
}

// GetSession implements [store.Sessions].
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	if err := ctx.Err(); err != nil {
		return store.Session{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return store.Session{}, store.ErrNotFound
	}
	return copySession(&sess.Session), nil
}

// RotateRefresh implements [store.Sessions]. A session past IdleExpires or
// Expires at req.Now (the instant itself included) is not found.
func (s *Store) RotateRefresh(ctx context.Context, req store.Rotate) (store.Session, error) {
	if err := ctx.Err(); err != nil {
		return store.Session{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[req.SessionID]
	if !ok || sess.Revoked || !req.Now.Before(sess.IdleExpires) || !req.Now.Before(sess.Expires) {
		return store.Session{}, store.ErrNotFound
	}
	if subtle.ConstantTimeCompare(req.Old, sess.Refresh) == 1 {
		sess.retired = append(sess.retired, sess.Refresh)
		sess.Refresh = clone(req.New)
		sess.LastUsed = req.Now
		sess.IdleExpires = req.IdleExpires
		if req.Data != nil {
			sess.Data = clone(req.Data)
		}
		return copySession(&sess.Session), nil
	}
	for _, old := range sess.retired {
		if subtle.ConstantTimeCompare(req.Old, old) == 1 {
			sess.Revoked = true
			sess.retired = nil // a revoked session never rotates again
			return store.Session{}, store.ErrReused
		}
	}
	return store.Session{}, store.ErrNotFound
}

// RevokeSession implements [store.Sessions]. Revoking a revoked session is
// not an error.
func (s *Store) RevokeSession(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return store.ErrNotFound
	}
	sess.Revoked = true
	sess.retired = nil
	return nil
}

// RevokeUserSessions implements [store.Sessions]. Live means not revoked
// before this call; the method has no clock to tell expiry.
func (s *Store) RevokeUserSessions(ctx context.Context, userID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sess := range s.sessions {
		if sess.UserID == userID && !sess.Revoked {
			sess.Revoked = true
			sess.retired = nil
			n++
		}
	}
	return n, nil
}

// ListSessions implements [store.Sessions].
func (s *Store) ListSessions(ctx context.Context, userID string) ([]store.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []store.Session{}
	for _, sess := range s.sessions {
		if sess.UserID == userID && !sess.Revoked {
			list = append(list, copySession(&sess.Session))
		}
	}
	slices.SortFunc(list, func(a, b store.Session) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

func copyDevice(d store.Device) store.Device {
	d.Hash = clone(d.Hash)
	return d
}

// CreateDevice implements [store.Devices].
func (s *Store) CreateDevice(ctx context.Context, d store.Device) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.devices[d.ID]; taken {
		return store.ErrExists
	}
	s.devices[d.ID] = copyDevice(d)
	return nil
}

// GetDevice implements [store.Devices].
func (s *Store) GetDevice(ctx context.Context, id string, now time.Time) (store.Device, error) {
	if err := ctx.Err(); err != nil {
		return store.Device{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok || !now.Before(d.Expires) {
		return store.Device{}, store.ErrNotFound
	}
	return copyDevice(d), nil
}

// ListDevices implements [store.Devices].
func (s *Store) ListDevices(ctx context.Context, userID string, now time.Time) ([]store.Device, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []store.Device{}
	for _, d := range s.devices {
		if d.UserID == userID && now.Before(d.Expires) {
			list = append(list, copyDevice(d))
		}
	}
	slices.SortFunc(list, func(a, b store.Device) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// DeleteDevice implements [store.Devices].
func (s *Store) DeleteDevice(ctx context.Context, userID, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok || d.UserID != userID {
		return store.ErrNotFound
	}
	delete(s.devices, id)
	return nil
}

// DeleteUserDevices implements [store.Devices]. Expired devices not yet
// swept are deleted and counted too.
func (s *Store) DeleteUserDevices(ctx context.Context, userID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, d := range s.devices {
		if d.UserID == userID {
			delete(s.devices, id)
			n++
		}
	}
	return n, nil
}

// Sweep implements [store.Sweeper]: it deletes the challenges, counters,
// sessions and devices expired at now and returns how many went.
// A session goes once it is past Expires or IdleExpires, revoked or not.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, c := range s.challenges {
		if !c.Expires.After(now) {
			delete(s.challenges, id)
			n++
		}
	}
	for k, c := range s.counters {
		if !live(c.Expires, now) {
			delete(s.counters, k)
			n++
		}
	}
	for id, sess := range s.sessions {
		if !now.Before(sess.Expires) || !now.Before(sess.IdleExpires) {
			delete(s.sessions, id)
			n++
		}
	}
	for id, d := range s.devices {
		if !now.Before(d.Expires) {
			delete(s.devices, id)
			n++
		}
	}
	return n, nil
}
