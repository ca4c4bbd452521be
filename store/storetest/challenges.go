package storetest

import (
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

func newChallenge() store.Challenge {
	return store.Challenge{
		ID:       uid("ch"),
		UserID:   uid("user"),
		FactorID: "f1",
		Kind:     "email",
		Binding:  uid("pending"),
		Data:     randBytes(32),
		Created:  at(0),
		Expires:  at(5 * time.Minute),
	}
}

// testChallenges runs when the value is a [store.Challenges].
func testChallenges(t *testing.T, s store.Challenges) {
	t.Run("PutTake", func(t *testing.T) {
		c := newChallenge()
		data := append([]byte(nil), c.Data...)
		in := c
		in.Data = data
		must(t, "PutChallenge", s.PutChallenge(ctx, in))
		data[0] ^= 0xff // the store kept its own copy

		got, err := s.TakeChallenge(ctx, c.ID, at(5*time.Minute-time.Millisecond))
		must(t, "TakeChallenge", err)
		checkChallenge(t, "TakeChallenge", got, c)
		_, err = s.TakeChallenge(ctx, c.ID, at(time.Second))
		wantErr(t, "TakeChallenge twice", err, store.ErrNotFound)
	})

	t.Run("UserLess", func(t *testing.T) {
		c := newChallenge()
		c.UserID, c.FactorID, c.Binding = "", "", ""
		must(t, "PutChallenge", s.PutChallenge(ctx, c))
		got, err := s.TakeChallenge(ctx, c.ID, at(0))
		must(t, "TakeChallenge", err)
		checkChallenge(t, "TakeChallenge of a user-less challenge", got, c)
	})

	t.Run("Exists", func(t *testing.T) {
		c := newChallenge()
		must(t, "PutChallenge", s.PutChallenge(ctx, c))
		dup := newChallenge()
		dup.ID = c.ID
		wantErr(t, "PutChallenge with a taken ID", s.PutChallenge(ctx, dup), store.ErrExists)
		got, err := s.TakeChallenge(ctx, c.ID, at(0))
		must(t, "TakeChallenge", err)
		checkChallenge(t, "challenge after a refused Put", got, c)
	})

	t.Run("Unknown", func(t *testing.T) {
		_, err := s.TakeChallenge(ctx, uid("ch"), at(0))
		wantErr(t, "TakeChallenge unknown", err, store.ErrNotFound)
	})

	t.Run("Expired", func(t *testing.T) {
		// Expired at its Expires instant, and removed by the failed take.
		c := newChallenge()
		must(t, "PutChallenge", s.PutChallenge(ctx, c))
		_, err := s.TakeChallenge(ctx, c.ID, c.Expires)
		wantErr(t, "TakeChallenge at Expires", err, store.ErrNotFound)
		_, err = s.TakeChallenge(ctx, c.ID, at(0))
		wantErr(t, "TakeChallenge of an expired challenge, earlier clock", err, store.ErrNotFound)

		late := newChallenge()
		must(t, "PutChallenge", s.PutChallenge(ctx, late))
		_, err = s.TakeChallenge(ctx, late.ID, at(time.Hour))
		wantErr(t, "TakeChallenge long after Expires", err, store.ErrNotFound)
	})
}
