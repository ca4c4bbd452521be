package storetest

import (
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

func newSession(userID string) store.Session {
	return store.Session{
		ID:          uid("sess"),
		UserID:      userID,
		Refresh:     randBytes(32),
		Data:        []byte(`{"aal":2}`),
		Created:     at(0),
		LastUsed:    at(0),
		IdleExpires: at(30 * time.Minute),
		Expires:     at(12 * time.Hour),
	}
}

// testSessions runs when the value is a [store.Sessions].
func testSessions(t *testing.T, s store.Sessions) {
	t.Run("CreateGet", func(t *testing.T) {
		sess := newSession(uid("user"))
		in := sess
		in.Refresh = append([]byte(nil), sess.Refresh...)
		must(t, "CreateSession", s.CreateSession(ctx, in))
		in.Refresh[0] ^= 0xff
		got, err := s.GetSession(ctx, sess.ID)
		must(t, "GetSession", err)
		checkSession(t, "GetSession", got, sess)
		got.Data[0] ^= 0xff
		got, err = s.GetSession(ctx, sess.ID)
		must(t, "GetSession", err)
		checkSession(t, "GetSession after the caller changed its copy", got, sess)

		dup := newSession(uid("user"))
		dup.ID = sess.ID
		wantErr(t, "CreateSession with a taken ID", s.CreateSession(ctx, dup), store.ErrExists)
		_, err = s.GetSession(ctx, uid("sess"))
		wantErr(t, "GetSession unknown", err, store.ErrNotFound)
	})

	t.Run("Rotate", func(t *testing.T) {
		sess := newSession(uid("user"))
		must(t, "CreateSession", s.CreateSession(ctx, sess))
		next := randBytes(32)
		got, err := s.RotateRefresh(ctx, store.Rotate{SessionID: sess.ID, Old: sess.Refresh, New: next,
			Now: at(10 * time.Minute), IdleExpires: at(40 * time.Minute)})
		must(t, "RotateRefresh", err)
		want := sess
		want.Refresh, want.LastUsed, want.IdleExpires = next, at(10*time.Minute), at(40*time.Minute)
		checkSession(t, "RotateRefresh result (Data nil keeps)", got, want)
		got, err = s.GetSession(ctx, sess.ID)
		must(t, "GetSession", err)
		checkSession(t, "GetSession after RotateRefresh", got, want)

		// Past the first idle limit but within the moved one; Data replaced.
		third := randBytes(32)
		got, err = s.RotateRefresh(ctx, store.Rotate{SessionID: sess.ID, Old: next, New: third, Data: []byte(`{"aal":3}`),
			Now: at(35 * time.Minute), IdleExpires: at(65 * time.Minute)})
		must(t, "RotateRefresh with Data", err)
		want.Refresh, want.LastUsed, want.IdleExpires, want.Data = third, at(35*time.Minute), at(65*time.Minute), []byte(`{"aal":3}`)
		checkSession(t, "RotateRefresh with Data", got, want)
	})

	t.Run("UnknownHash", func(t *testing.T) {
		sess := newSession(uid("user"))
		must(t, "CreateSession", s.CreateSession(ctx, sess))
		_, err := s.RotateRefresh(ctx, store.Rotate{SessionID: sess.ID, Old: randBytes(32), New: randBytes(32),
			Now: at(time.Minute), IdleExpires: at(time.Hour)})
		wantErr(t, "RotateRefresh with a hash never issued", err, store.ErrNotFound)
		got, err := s.GetSession(ctx, sess.ID)
		must(t, "GetSession", err)
		checkSession(t, "session after an unknown hash", got, sess)

		_, err = s.RotateRefresh(ctx, store.Rotate{SessionID: uid("sess"), Old: sess.Refresh, New: randBytes(32),
			Now: at(time.Minute), IdleExpires: at(time.Hour)})
		wantErr(t, "RotateRefresh of an unknown session", err, store.ErrNotFound)
		// Another session's current hash does not work here either.
		other := newSession(sess.UserID)
		must(t, "CreateSession", s.CreateSession(ctx, other))
		_, err = s.RotateRefresh(ctx, store.Rotate{SessionID: sess.ID, Old: other.Refresh, New: randBytes(32),
			Now: at(time.Minute), IdleExpires: at(time.Hour)})
		wantErr(t, "RotateRefresh with another session's hash", err, store.ErrNotFound)

		_, err = s.RotateRefresh(ctx, store.Rotate{SessionID: sess.ID, Old: sess.Refresh, New: randBytes(32),
			Now: at(time.Minute), IdleExpires: at(time.Hour)})
		must(t, "RotateRefresh with the current hash after refused ones", err)
	})

	t.Run("Reuse", func(t *testing.T) {
		sess := newSession(uid("user"))
		must(t, "CreateSession", s.CreateSession(ctx, sess))
		h1, h2 := randBytes(32), randBytes(32)
		rot := func(old, new []byte, now time.Duration) error {
			_, err := s.RotateRefresh(ctx, store.Rotate{SessionID: sess.ID, Old: old, New: new,
				Now: at(now), IdleExpires: at(now + 30*time.Minute)})
			return err
		}
		must(t, "rotate 0->1", rot(sess.Refresh, h1, time.Minute))
		must(t, "rotate 1->2", rot(h1, h2, 2*time.Minute))
		// Not just the last retired hash: any earlier one.
		wantErr(t, "presenting the first, retired token", rot(sess.Refresh, randBytes(32), 3*time.Minute), store.ErrReused)

		got, err := s.GetSession(ctx, sess.ID)
		must(t, "GetSession of a revoked session", err)
		if !got.Revoked {
			t.Fatal("reuse did not revoke the session")
		}
		wantErr(t, "rotating the current token of a revoked session", rot(h2, randBytes(32), 4*time.Minute), store.ErrNotFound)
		list, err := s.ListSessions(ctx, sess.UserID)
		must(t, "ListSessions", err)
		if len(list) != 0 {
			t.Fatalf("ListSessions after reuse = %d sessions, want none", len(list))
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		// Idle limit: refused after IdleExpires, nothing changes.
		sess := newSession(uid("user"))
		must(t, "CreateSession", s.CreateSession(ctx, sess))
		_, err := s.RotateRefresh(ctx, store.Rotate{SessionID: sess.ID, Old: sess.Refresh, New: randBytes(32),
			Now: sess.IdleExpires.Add(time.Millisecond), IdleExpires: at(time.Hour)})
		wantErr(t, "RotateRefresh past IdleExpires", err, store.ErrNotFound)
		got, err := s.GetSession(ctx, sess.ID)
		must(t, "GetSession", err)
		checkSession(t, "session after a refused idle rotation", got, sess)

		// Absolute limit: refused after Expires even when still active.
		abs := newSession(uid("user"))
		abs.IdleExpires = at(48 * time.Hour)
		must(t, "CreateSession", s.CreateSession(ctx, abs))
		_, err = s.RotateRefresh(ctx, store.Rotate{SessionID: abs.ID, Old: abs.Refresh, New: randBytes(32),
			Now: abs.Expires.Add(time.Millisecond), IdleExpires: at(49 * time.Hour)})
		wantErr(t, "RotateRefresh past Expires", err, store.ErrNotFound)
		_, err = s.RotateRefresh(ctx, store.Rotate{SessionID: abs.ID, Old: abs.Refresh, New: randBytes(32),
			Now: abs.Expires.Add(-time.Millisecond), IdleExpires: at(49 * time.Hour)})
		must(t, "RotateRefresh just before Expires", err)
	})

	t.Run("Revoke", func(t *testing.T) {
		user := uid("user")
		a, b, c := newSession(user), newSession(user), newSession(user)
		b.Created = at(time.Second)
		c.Created = at(time.Second)
		if c.ID < b.ID {
			b, c = c, b // b sorts first by ID
		}
		for _, x := range []store.Session{c, a, b} {
			must(t, "CreateSession", s.CreateSession(ctx, x))
		}
		neighbour := newSession(uid("user"))
		must(t, "CreateSession of another user", s.CreateSession(ctx, neighbour))

		list, err := s.ListSessions(ctx, user)
		must(t, "ListSessions", err)
		id := func(x store.Session) string { return x.ID }
		if g, w := ids(list, id), ids([]store.Session{a, b, c}, id); g != w {
			t.Fatalf("ListSessions = %s, want %s (Created then ID)", g, w)
		}
		checkSession(t, "ListSessions[0]", list[0], a)

		must(t, "RevokeSession", s.RevokeSession(ctx, b.ID))
		must(t, "RevokeSession again", s.RevokeSession(ctx, b.ID))
		wantErr(t, "RevokeSession unknown", s.RevokeSession(ctx, uid("sess")), store.ErrNotFound)
		got, err := s.GetSession(ctx, b.ID)
		must(t, "GetSession of a revoked session", err)
		want := b
		want.Revoked = true
		checkSession(t, "revoked session", got, want)
		_, err = s.RotateRefresh(ctx, store.Rotate{SessionID: b.ID, Old: b.Refresh, New: randBytes(32), Now: at(time.Minute), IdleExpires: at(time.Hour)})
		wantErr(t, "RotateRefresh of a revoked session", err, store.ErrNotFound)

		list, err = s.ListSessions(ctx, user)
		must(t, "ListSessions", err)
		if g, w := ids(list, id), ids([]store.Session{a, c}, id); g != w {
			t.Fatalf("ListSessions after revoking one = %s, want %s", g, w)
		}

		n, err := s.RevokeUserSessions(ctx, user)
		must(t, "RevokeUserSessions", err)
		if n != 2 {
			t.Fatalf("RevokeUserSessions = %d, want 2 (live ones only)", n)
		}
		n, err = s.RevokeUserSessions(ctx, user)
		must(t, "RevokeUserSessions again", err)
		if n != 0 {
			t.Fatalf("RevokeUserSessions again = %d, want 0", n)
		}
		list, err = s.ListSessions(ctx, user)
		must(t, "ListSessions", err)
		if len(list) != 0 {
			t.Fatalf("ListSessions after RevokeUserSessions = %s, want none", ids(list, id))
		}
		for _, x := range []store.Session{a, c} {
			got, err := s.GetSession(ctx, x.ID)
			must(t, "GetSession", err)
			if !got.Revoked {
				t.Fatalf("session %s not revoked by RevokeUserSessions", x.ID)
			}
		}
		got, err = s.GetSession(ctx, neighbour.ID)
		must(t, "GetSession of another user's session", err)
		checkSession(t, "another user's session", got, neighbour)

		n, err = s.RevokeUserSessions(ctx, uid("user"))
		must(t, "RevokeUserSessions of a user without sessions", err)
		if n != 0 {
			t.Fatalf("RevokeUserSessions of a user without sessions = %d", n)
		}
	})
}
