package storetest

import (
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

func newCase(user string) store.RecoveryCase {
	return store.RecoveryCase{
		ID:      uid("case"),
		UserID:  user,
		State:   store.CasePending,
		Token:   randBytes(32),
		Data:    []byte(`{"reason":"lost phone"}`),
		Created: at(0),
		Updated: at(0),
		Expires: at(30 * 24 * time.Hour),
	}
}

func checkCase(t *testing.T, what string, got, want store.RecoveryCase) {
	t.Helper()
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("UserID", got.UserID, want.UserID)
	d.str("State", string(got.State), string(want.State))
	d.bytes("Token", got.Token, want.Token)
	d.bytes("Data", got.Data, want.Data)
	d.time("Created", got.Created, want.Created)
	d.time("Updated", got.Updated, want.Updated)
	d.time("NotBefore", got.NotBefore, want.NotBefore)
	d.time("Expires", got.Expires, want.Expires)
	d.report(t, what)
}

// closeCase moves a case the test left open to cancelled, so shared
// databases do not fill ListOpenCases with old runs' cases.
func closeCase(t *testing.T, s store.Recovery, c store.RecoveryCase) {
	t.Helper()
	t.Cleanup(func() {
		got, err := s.GetCase(ctx, c.ID)
		if err != nil || !got.State.Open() {
			return
		}
		_, _ = s.MoveCase(ctx, store.CaseMove{ID: c.ID, From: got.State, To: store.CaseCancelled, Now: at(time.Hour)})
	})
}

// testRecovery runs when the value is a [store.Recovery], its races
// included.
func testRecovery(t *testing.T, s store.Recovery) {
	t.Run("CreateGet", func(t *testing.T) {
		c := newCase(uid("user"))
		in := c
		in.Token, in.Data = append([]byte(nil), c.Token...), append([]byte(nil), c.Data...)
		must(t, "CreateCase", s.CreateCase(ctx, in))
		closeCase(t, s, c)
		in.Token[0] ^= 0xff // the store kept its own copy
		in.Data[0] ^= 0xff
		got, err := s.GetCase(ctx, c.ID)
		must(t, "GetCase", err)
		checkCase(t, "GetCase", got, c)

		dup := newCase(uid("user"))
		dup.ID = c.ID
		wantErr(t, "CreateCase with a taken ID", s.CreateCase(ctx, dup), store.ErrExists)
		got, err = s.GetCase(ctx, c.ID)
		must(t, "GetCase", err)
		checkCase(t, "case after a refused create", got, c)

		_, err = s.GetCase(ctx, uid("case"))
		wantErr(t, "GetCase unknown", err, store.ErrNotFound)
	})

	t.Run("ListCases", func(t *testing.T) {
		user := uid("user")
		a, b, c := newCase(user), newCase(user), newCase(user)
		a.Created = at(time.Second)
		b.ID, c.ID = "case-b-"+b.ID, "case-a-"+c.ID // same Created: by ID
		other := newCase(uid("user"))
		for _, x := range []store.RecoveryCase{a, b, c, other} {
			must(t, "CreateCase", s.CreateCase(ctx, x))
			closeCase(t, s, x)
		}
		got, err := s.ListCases(ctx, user)
		must(t, "ListCases", err)
		if g, w := ids(got, caseID), ids([]store.RecoveryCase{c, b, a}, caseID); g != w {
			t.Fatalf("ListCases order: %s, want %s", g, w)
		}
		checkCase(t, "listed case", got[2], a)
		none, err := s.ListCases(ctx, uid("user"))
		must(t, "ListCases of a user without cases", err)
		if len(none) != 0 {
			t.Fatalf("ListCases of a user without cases: %d", len(none))
		}
	})

	t.Run("ListOpenCases", func(t *testing.T) {
		// Years before every other case, so these come first even in a
		// shared database; each is closed again when the test ends.
		old := func(d time.Duration) time.Time { return at(d - 40*365*24*time.Hour) }
		user := uid("user")
		p, a, d := newCase(user), newCase(user), newCase(user)
		p.Created, a.Created, d.Created = old(2*time.Millisecond), old(time.Millisecond), old(0)
		for _, x := range []store.RecoveryCase{p, a, d} {
			must(t, "CreateCase", s.CreateCase(ctx, x))
			closeCase(t, s, x)
		}
		_, err := s.MoveCase(ctx, store.CaseMove{ID: a.ID, From: store.CasePending, To: store.CaseApproved, Now: old(time.Second)})
		must(t, "approve", err)
		_, err = s.MoveCase(ctx, store.CaseMove{ID: d.ID, From: store.CasePending, To: store.CaseDenied, Now: old(time.Second)})
		must(t, "deny", err)
		// Other runs may share the database: look at this test's cases
		// only, in the order they came.
		mine := func(limit int) string {
			t.Helper()
			got, err := s.ListOpenCases(ctx, limit)
			must(t, "ListOpenCases", err)
			if len(got) > limit {
				t.Fatalf("ListOpenCases(%d) returned %d cases", limit, len(got))
			}
			var out []store.RecoveryCase
			for _, c := range got {
				if c.UserID == user {
					out = append(out, c)
					if c.ID == a.ID && c.State != store.CaseApproved {
						t.Fatalf("ListOpenCases: state %q, want approved", c.State)
					}
				}
			}
			return ids(out, caseID)
		}
		if g, w := mine(1000), a.ID+","+p.ID; g != w {
			t.Fatalf("ListOpenCases = %s, want %s (approved and pending, oldest first, denied left out)", g, w)
		}
		if g := mine(0); g != "" {
			t.Fatalf("ListOpenCases(0) returned %s", g)
		}
		mine(1)
		_, err = s.MoveCase(ctx, store.CaseMove{ID: a.ID, From: store.CaseApproved, To: store.CaseCancelled, Now: old(time.Minute)})
		must(t, "cancel", err)
		if g := mine(1000); g != p.ID {
			t.Fatalf("ListOpenCases after a cancel = %s, want %s", g, p.ID)
		}
	})

	t.Run("MoveCase", func(t *testing.T) {
		c := newCase(uid("user"))
		must(t, "CreateCase", s.CreateCase(ctx, c))
		closeCase(t, s, c)
		m := store.CaseMove{
			ID: c.ID, From: store.CasePending, To: store.CaseApproved, Now: at(time.Minute),
			NotBefore: at(24 * time.Hour), Expires: at(48 * time.Hour), Data: []byte(`{"note":"ok"}`),
		}
		want := c
		want.State, want.Updated, want.NotBefore, want.Expires, want.Data = m.To, m.Now, m.NotBefore, m.Expires, m.Data
		got, err := s.MoveCase(ctx, m)
		must(t, "MoveCase", err)
		checkCase(t, "MoveCase result", got, want)
		got, err = s.GetCase(ctx, c.ID)
		must(t, "GetCase", err)
		checkCase(t, "case after MoveCase", got, want)

		// From a state the case has left: nothing changes.
		_, err = s.MoveCase(ctx, store.CaseMove{ID: c.ID, From: store.CasePending, To: store.CaseDenied, Now: at(time.Hour), Data: []byte("x")})
		wantErr(t, "MoveCase from a stale state", err, store.ErrConflict)
		got, err = s.GetCase(ctx, c.ID)
		must(t, "GetCase", err)
		checkCase(t, "case after a refused move", got, want)

		// Zero times and nil Data keep what is stored.
		want.State, want.Updated = store.CaseRedeemed, at(25*time.Hour)
		got, err = s.MoveCase(ctx, store.CaseMove{ID: c.ID, From: store.CaseApproved, To: store.CaseRedeemed, Now: want.Updated})
		must(t, "MoveCase keeping fields", err)
		checkCase(t, "MoveCase keeping fields", got, want)

		_, err = s.MoveCase(ctx, store.CaseMove{ID: uid("case"), From: store.CasePending, To: store.CaseApproved, Now: at(0)})
		wantErr(t, "MoveCase unknown", err, store.ErrNotFound)
	})

	t.Run("Concurrency", func(t *testing.T) {
		t.Run("ApproveVersusDeny", func(t *testing.T) {
			c := newCase(uid("user"))
			must(t, "CreateCase", s.CreateCase(ctx, c))
			closeCase(t, s, c)
			errs := race(racers, func(i int) error {
				to := store.CaseApproved
				if i%2 == 1 {
					to = store.CaseDenied
				}
				_, err := s.MoveCase(ctx, store.CaseMove{ID: c.ID, From: store.CasePending, To: to, Now: at(time.Minute)})
				return err
			})
			one(t, "concurrent approve and deny", errs, store.ErrConflict)
		})
		t.Run("Redeem", func(t *testing.T) {
			c := newCase(uid("user"))
			must(t, "CreateCase", s.CreateCase(ctx, c))
			closeCase(t, s, c)
			_, err := s.MoveCase(ctx, store.CaseMove{ID: c.ID, From: store.CasePending, To: store.CaseApproved, Now: at(time.Minute)})
			must(t, "approve", err)
			errs := race(racers, func(int) error {
				_, err := s.MoveCase(ctx, store.CaseMove{ID: c.ID, From: store.CaseApproved, To: store.CaseRedeemed, Now: at(time.Hour)})
				return err
			})
			one(t, "concurrent redemptions", errs, store.ErrConflict)
			got, err := s.GetCase(ctx, c.ID)
			must(t, "GetCase", err)
			if got.State != store.CaseRedeemed {
				t.Fatalf("state after the race: %q", got.State)
			}
		})
	})
}

func caseID(c store.RecoveryCase) string { return c.ID }
