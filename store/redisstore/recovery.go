package redisstore

import (
	"context"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store"
)

var _ store.Recovery = (*Store)(nil)

func (s *Store) caseKey(id string) string       { return s.prefix + "{rc}:c:" + esc(id) }
func (s *Store) userCases(userID string) string { return s.prefix + "{rc}:u:" + esc(userID) }
func (s *Store) openCases() string              { return s.prefix + "{rc}:open" }

func openFlag(st store.CaseState) string {
	if st.Open() {
		return "1"
	}
	return "0"
}

// CreateCase implements [store.Recovery]: one script stores the case and
// indexes it.
func (s *Store) CreateCase(ctx context.Context, c store.RecoveryCase) error {
	score := strconv.FormatInt(msDown(c.Created), 10)
	a := fields{c.ID, score, openFlag(c.State), "id", c.ID}
	a = a.add("user", c.UserID)
	a = a.add("state", string(c.State))
	a = a.add("token", c.Token)
	a = a.add("data", c.Data)
	a = a.add("score", score)
	a = a.add("created", timeText(c.Created, false))
	a = a.add("updated", timeText(c.Updated, false))
	a = a.add("not_before", timeText(c.NotBefore, true))
	a = a.add("expires", timeText(c.Expires, true))
	v, err := createCaseScript.Run(ctx, s.c, []string{s.caseKey(c.ID), s.userCases(c.UserID), s.openCases()}, a...).Result()
	return status("create case", v, err)
}

// GetCase implements [store.Recovery].
func (s *Store) GetCase(ctx context.Context, id string) (store.RecoveryCase, error) {
	h, err := s.c.HGetAll(ctx, s.caseKey(id)).Result()
	if err != nil {
		return store.RecoveryCase{}, fail("get case", err)
	}
	if len(h) == 0 {
		return store.RecoveryCase{}, status("get case", "nf", nil)
	}
	return caseOf(hash(h))
}

func caseOf(h hash) (store.RecoveryCase, error) {
	var perr error
	c := store.RecoveryCase{
		ID:        h["id"],
		UserID:    h["user"],
		State:     store.CaseState(h["state"]),
		Token:     h.bytes("token"),
		Data:      h.bytes("data"),
		Created:   h.time("created", &perr),
		Updated:   h.time("updated", &perr),
		NotBefore: h.time("not_before", &perr),
		Expires:   h.time("expires", &perr),
	}
	return c, perr
}

// ListCases implements [store.Recovery]: the user's index, then the cases
// in one pipeline. A case is never deleted, so each ID the index holds
// has its record.
func (s *Store) ListCases(ctx context.Context, userID string) ([]store.RecoveryCase, error) {
	ids, err := s.c.ZRange(ctx, s.userCases(userID), 0, -1).Result()
	if err != nil {
		return nil, fail("list cases", err)
	}
	return s.readCases(ctx, "list cases", ids, func(store.RecoveryCase) bool { return true })
}

// ListOpenCases implements [store.Recovery]. A case closed between the
// two reads is left out.
func (s *Store) ListOpenCases(ctx context.Context, limit int) ([]store.RecoveryCase, error) {
	if limit < 1 {
		return []store.RecoveryCase{}, nil
	}
	ids, err := s.c.ZRange(ctx, s.openCases(), 0, int64(limit-1)).Result()
	if err != nil {
		return nil, fail("list open cases", err)
	}
	return s.readCases(ctx, "list open cases", ids, func(c store.RecoveryCase) bool { return c.State.Open() })
}

func (s *Store) readCases(ctx context.Context, op string, ids []string, keep func(store.RecoveryCase) bool) ([]store.RecoveryCase, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.caseKey(id)
	}
	hs, err := s.readAll(ctx, keys)
	if err != nil {
		return nil, fail(op, err)
	}
	out := []store.RecoveryCase{}
	for _, h := range hs {
		if len(h) == 0 {
			continue
		}
		c, err := caseOf(hash(h))
		if err != nil {
			return nil, err
		}
		if keep(c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// MoveCase implements [store.Recovery]: one script compares the state and
// writes the move.
func (s *Store) MoveCase(ctx context.Context, m store.CaseMove) (store.RecoveryCase, error) {
	const op = "move case"
	hasData := "0"
	if m.Data != nil {
		hasData = "1"
	}
	v, err := moveCaseScript.Run(ctx, s.c, []string{s.caseKey(m.ID), s.openCases()},
		m.ID, string(m.From), string(m.To), openFlag(m.To), timeText(m.Now, false),
		timeText(m.NotBefore, true), timeText(m.Expires, true), hasData, m.Data).Result()
	if err != nil && err != redis.Nil {
		return store.RecoveryCase{}, fail(op, err)
	}
	list, ok := v.([]any)
	if !ok {
		return store.RecoveryCase{}, status(op, v, nil)
	}
	return caseOf(pairs(list))
}
