package redisstore

import (
	"context"
	"time"

	"github.com/mfakit/mfa/store"
)

// PutChallenge implements [store.Challenges]. Redis drops the challenge
// grace after its Expires (measured from its Created); until then an
// expired challenge still holds its ID.
func (s *Store) PutChallenge(ctx context.Context, c store.Challenge) error {
	a := fields{backstop(c.Created, c.Expires), "user", c.UserID}
	a = a.add("id", c.ID)
	a = a.add("factor", c.FactorID)
	a = a.add("kind", c.Kind)
	a = a.add("binding", c.Binding)
	a = a.add("data", c.Data)
	a = a.add("created", timeText(c.Created, false))
	a = a.add("expires", timeText(c.Expires, true))
	v, err := putScript.Run(ctx, s.c, []string{s.challengeKey(c.ID)}, a...).Result()
	return status("put challenge", v, err)
}

// TakeChallenge implements [store.Challenges]: one script reads and
// deletes the challenge, so of concurrent takes exactly one gets it;
// whether it has expired is then decided against now.
func (s *Store) TakeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	const op = "take challenge"
	v, err := takeScript.Run(ctx, s.c, []string{s.challengeKey(id)}).Slice()
	if err != nil {
		return store.Challenge{}, fail(op, err)
	}
	if len(v) == 0 {
		return store.Challenge{}, status(op, "nf", nil)
	}
	h := pairs(v)
	var perr error
	c := store.Challenge{
		ID:       id,
		UserID:   h["user"],
		FactorID: h["factor"],
		Kind:     h["kind"],
		Binding:  h["binding"],
		Data:     h.bytes("data"),
		Created:  h.time("created", &perr),
		Expires:  h.time("expires", &perr),
	}
	if perr != nil {
		return store.Challenge{}, perr
	}
	if c.Expires.IsZero() || msDown(now) >= msDown(c.Expires) {
		return store.Challenge{}, status(op, "nf", nil)
	}
	return c, nil
}
