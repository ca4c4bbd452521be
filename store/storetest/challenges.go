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

func testChallenges(t *testing.T, s store.Store) {
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

func testMarks(t *testing.T, s store.Store) {
	t.Run("Once", func(t *testing.T) {
		key, other := uid("mark"), uid("mark")
		must(t, "Mark", s.Mark(ctx, key, at(0), at(time.Minute)))
		wantErr(t, "Mark again", s.Mark(ctx, key, at(0), at(time.Minute)), store.ErrExists)
		wantErr(t, "Mark again just before expiry", s.Mark(ctx, key, at(time.Minute-time.Millisecond), at(time.Hour)), store.ErrExists)
		must(t, "Mark another key", s.Mark(ctx, other, at(0), at(time.Minute)))
	})

	t.Run("AfterExpiry", func(t *testing.T) {
		// A mark expires at its expiry instant; the failed re-mark above
		// did not extend it, the successful one below does.
		key := uid("mark")
		must(t, "Mark", s.Mark(ctx, key, at(0), at(time.Minute)))
		wantErr(t, "Mark while marked", s.Mark(ctx, key, at(30*time.Second), at(time.Hour)), store.ErrExists)
		must(t, "Mark at expiry", s.Mark(ctx, key, at(time.Minute), at(2*time.Minute)))
		wantErr(t, "Mark after re-marking", s.Mark(ctx, key, at(90*time.Second), at(3*time.Minute)), store.ErrExists)
		must(t, "Mark after the new expiry", s.Mark(ctx, key, at(10*time.Minute), at(11*time.Minute)))
	})

	t.Run("Forever", func(t *testing.T) {
		key := uid("mark")
		must(t, "Mark forever", s.Mark(ctx, key, at(0), time.Time{}))
		wantErr(t, "Mark a key marked forever, much later", s.Mark(ctx, key, at(100*365*24*time.Hour), time.Time{}), store.ErrExists)
	})
}
