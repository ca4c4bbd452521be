package redisstore

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mfakit/mfa/store"
)

// Sessions and devices are hashes under their own tags ({s:<id>},
// {d:<id>}), found by ID alone; each user has an index of their IDs under
// the user's tag: a sorted set, each ID scored by the instant after which
// Redis may have dropped its record (its expiry plus grace, in the
// caller's time). An index may name records that are gone (expired and
// dropped or swept, or never written: a create that failed or lost its ID
// to another); readers skip those and leave them. Entries leave the index
// only when their record is deleted through it (DeleteDevice,
// DeleteUserDevices) or when a later create of the same user, at a caller
// time past the entry's score, drops it (see luaIndexAdd). Neither can
// happen to the entry of a create still in progress, so the index never
// misses a record: on a single Redis the record and its entry are written
// by one script; on a sharded one the entry is added first, and nothing
// removes it until its record has expired by more than grace.

// createIndexed writes a session or device and its index entry. created
// is the caller's now (the record's creation time), exp its expiry.
func (s *Store) createIndexed(ctx context.Context, op string, keyOf func(string) string, index, id string,
	created, exp time.Time, a fields) error {
	ttl := backstop(created, exp)
	now := msDown(created)
	score := now + ttl
	if score < now { // overflow: never dropped
		score = math.MaxInt64
	}
	args := append(fields{id, ttl, score, now}, a...)
	keys := []string{keyOf(id), index}
	if s.sharded {
		if err := indexAddScript.Run(ctx, s.c, []string{index}, args[:4]...).Err(); err != nil {
			return fail(op, err)
		}
		keys = keys[:1]
	}
	v, err := createIndexedScript.Run(ctx, s.c, keys, args...).Result()
	return status(op, v, err)
}

// members reads a user's index and the records it names, skipping the
// entries whose record is gone or belongs to someone else. It removes
// nothing: an entry without a record may be that of a create between
// its two steps (on a sharded store).
func (s *Store) members(ctx context.Context, index, userID string, keyOf func(string) string) ([]string, []hash, error) {
	ids, err := s.c.ZRange(ctx, index, 0, -1).Result()
	if err != nil {
		return nil, nil, err
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = keyOf(id)
	}
	hs, err := s.readAll(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	outIDs, out := ids[:0], make([]hash, 0, len(hs))
	for i, h := range hs {
		if len(h) > 0 && h["user"] == userID {
			outIDs = append(outIDs, ids[i])
			out = append(out, h)
		}
	}
	return outIDs, out, nil
}

func sessionFields(x store.Session) fields {
	a := fields{"user", x.UserID}
	a = a.add("refresh", x.Refresh)
	a = a.add("data", x.Data)
	a = a.add("created", timeText(x.Created, false))
	a = a.add("last_used", timeText(x.LastUsed, false))
	a = a.add("idle_expires", timeText(x.IdleExpires, true))
	a = a.add("expires", timeText(x.Expires, true))
	if x.Revoked {
		a = append(a, "revoked", "1")
	}
	return a
}

func (h hash) session(id string) (store.Session, error) {
	var err error
	x := store.Session{
		ID:          id,
		UserID:      h["user"],
		Refresh:     h.bytes("refresh"),
		Data:        h.bytes("data"),
		Created:     h.time("created", &err),
		LastUsed:    h.time("last_used", &err),
		IdleExpires: h.time("idle_expires", &err),
		Expires:     h.time("expires", &err),
		Revoked:     h["revoked"] != "",
	}
	return x, err
}

// CreateSession implements [store.Sessions]. Redis drops the session grace
// after its Expires (measured from its Created), revoked or not.
func (s *Store) CreateSession(ctx context.Context, x store.Session) error {
	return s.createIndexed(ctx, "create session", s.sessionKey, s.sessionIndex(x.UserID), x.ID,
		x.Created, x.Expires, sessionFields(x))
}

// GetSession implements [store.Sessions].
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	h, err := s.c.HGetAll(ctx, s.sessionKey(id)).Result()
	if err != nil {
		return store.Session{}, fail("get session", err)
	}
	if len(h) == 0 {
		return store.Session{}, status("get session", "nf", nil)
	}
	return hash(h).session(id)
}

// RotateRefresh implements [store.Sessions] with one script. The retired
// hashes are a set beside the session, forgotten when it is revoked.
// Hashes are compared by Redis (string equality, set membership), not in
// constant time; they are keyed hashes of random tokens, so timing tells
// an attacker nothing about a token.
func (s *Store) RotateRefresh(ctx context.Context, req store.Rotate) (store.Session, error) {
	const op = "rotate refresh"
	hasData := "0"
	if req.Data != nil {
		hasData = "1"
	}
	v, err := rotateScript.Run(ctx, s.c, []string{s.sessionKey(req.SessionID), s.retiredKey(req.SessionID)},
		msDown(req.Now), req.Old, req.New, hasData, req.Data, timeText(req.IdleExpires, true)).Slice()
	if err != nil {
		return store.Session{}, fail(op, err)
	}
	if len(v) == 0 {
		return store.Session{}, fail(op, fmt.Errorf("empty reply"))
	}
	if v[0] != "ok" {
		return store.Session{}, status(op, v[0], nil)
	}
	return pairs(v[1:]).session(req.SessionID)
}

// RevokeSession implements [store.Sessions]. Revoking a revoked session is
// not an error.
func (s *Store) RevokeSession(ctx context.Context, id string) error {
	n, err := revokeScript.Run(ctx, s.c, []string{s.sessionKey(id), s.retiredKey(id)}, "0", "").Int64()
	if err != nil {
		return fail("revoke session", err)
	}
	if n < 0 {
		return status("revoke session", "nf", nil)
	}
	return nil
}

// RevokeUserSessions implements [store.Sessions]: the user's index, then
// one revoke script per session, pipelined. A session created while this
// runs may stay live, as if it had been created just after.
func (s *Store) RevokeUserSessions(ctx context.Context, userID string) (int, error) {
	const op = "revoke user sessions"
	ids, err := s.c.ZRange(ctx, s.sessionIndex(userID), 0, -1).Result()
	if err != nil {
		return 0, fail(op, err)
	}
	calls := make([]call, len(ids))
	for i, id := range ids {
		calls[i] = call{keys: []string{s.sessionKey(id), s.retiredKey(id)}, args: []any{"1", userID}}
	}
	cmds, err := s.runMany(ctx, revokeScript, calls)
	if err != nil {
		return 0, fail(op, err)
	}
	n := 0
	for _, c := range cmds {
		if r, _ := c.Int64(); r == 1 {
			n++
		}
	}
	return n, nil
}

// ListSessions implements [store.Sessions].
func (s *Store) ListSessions(ctx context.Context, userID string) ([]store.Session, error) {
	const op = "list sessions"
	ids, hs, err := s.members(ctx, s.sessionIndex(userID), userID, s.sessionKey)
	if err != nil {
		return nil, fail(op, err)
	}
	list := []store.Session{}
	for i, h := range hs {
		x, err := h.session(ids[i])
		if err != nil {
			return nil, err
		}
		if !x.Revoked {
			list = append(list, x)
		}
	}
	slices.SortFunc(list, func(a, b store.Session) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

func deviceFields(d store.Device) fields {
	a := fields{"user", d.UserID}
	a = a.add("hash", d.Hash)
	a = a.add("name", d.Name)
	a = a.add("created", timeText(d.Created, false))
	a = a.add("last_used", timeText(d.LastUsed, false))
	a = a.add("expires", timeText(d.Expires, true))
	return a
}

func (h hash) device(id string) (store.Device, error) {
	var err error
	d := store.Device{
		ID:       id,
		UserID:   h["user"],
		Hash:     h.bytes("hash"),
		Name:     h["name"],
		Created:  h.time("created", &err),
		LastUsed: h.time("last_used", &err),
		Expires:  h.time("expires", &err),
	}
	return d, err
}

// live reports whether a record expiring at exp is still valid at now.
func live(exp, now time.Time) bool {
	return !exp.IsZero() && msDown(now) < msDown(exp)
}

// CreateDevice implements [store.Devices]. Redis drops the device grace
// after its Expires (measured from its Created).
func (s *Store) CreateDevice(ctx context.Context, d store.Device) error {
	return s.createIndexed(ctx, "create device", s.deviceKey, s.deviceIndex(d.UserID), d.ID,
		d.Created, d.Expires, deviceFields(d))
}

// GetDevice implements [store.Devices].
func (s *Store) GetDevice(ctx context.Context, id string, now time.Time) (store.Device, error) {
	h, err := s.c.HGetAll(ctx, s.deviceKey(id)).Result()
	if err != nil {
		return store.Device{}, fail("get device", err)
	}
	if len(h) == 0 {
		return store.Device{}, status("get device", "nf", nil)
	}
	d, err := hash(h).device(id)
	if err != nil {
		return store.Device{}, err
	}
	if !live(d.Expires, now) {
		return store.Device{}, status("get device", "nf", nil)
	}
	return d, nil
}

// ListDevices implements [store.Devices].
func (s *Store) ListDevices(ctx context.Context, userID string, now time.Time) ([]store.Device, error) {
	ids, hs, err := s.members(ctx, s.deviceIndex(userID), userID, s.deviceKey)
	if err != nil {
		return nil, fail("list devices", err)
	}
	list := []store.Device{}
	for i, h := range hs {
		d, err := h.device(ids[i])
		if err != nil {
			return nil, err
		}
		if live(d.Expires, now) {
			list = append(list, d)
		}
	}
	slices.SortFunc(list, func(a, b store.Device) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// DeleteDevice implements [store.Devices].
func (s *Store) DeleteDevice(ctx context.Context, userID, id string) error {
	const op = "delete device"
	keys := []string{s.deviceKey(id), s.deviceIndex(userID)}
	if s.sharded {
		keys = keys[:1]
	}
	n, err := deleteDeviceScript.Run(ctx, s.c, keys, userID, id).Int64()
	if err != nil {
		return fail(op, err)
	}
	if n == 0 {
		return status(op, "nf", nil)
	}
	if s.sharded {
		_ = s.c.ZRem(ctx, s.deviceIndex(userID), id).Err() // else dropped after its expiry
	}
	return nil
}

// DeleteUserDevices implements [store.Devices]. Expired devices Redis has
// not dropped yet are deleted and counted too.
func (s *Store) DeleteUserDevices(ctx context.Context, userID string) (int, error) {
	const op = "delete user devices"
	index := s.deviceIndex(userID)
	ids, err := s.c.ZRange(ctx, index, 0, -1).Result()
	if err != nil {
		return 0, fail(op, err)
	}
	calls := make([]call, len(ids))
	for i, id := range ids {
		keys := []string{s.deviceKey(id), index}
		if s.sharded {
			keys = keys[:1]
		}
		calls[i] = call{keys: keys, args: []any{userID, id}}
	}
	cmds, err := s.runMany(ctx, deleteDeviceScript, calls)
	if err != nil {
		return 0, fail(op, err)
	}
	// On a sharded store, the entries of the devices deleted here leave
	// the index after them, as the script does on a single Redis. An entry
	// whose device was not there stays: it may be that of a create between
	// its two steps, whose device is about to be written.
	var deleted []any
	for i, c := range cmds {
		if r, _ := c.Int64(); r == 1 {
			deleted = append(deleted, ids[i])
		}
	}
	if s.sharded && len(deleted) > 0 {
		_ = s.c.ZRem(ctx, index, deleted...).Err() // else dropped after their expiry
	}
	return len(deleted), nil
}
