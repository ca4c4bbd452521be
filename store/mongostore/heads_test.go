package mongostore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/mongostore"
)

// headOf returns the raw head document of the record whose key ends in
// suffix, and a function that puts it back, as a write that stopped
// between its version and its head leaves it.
func headOf(t *testing.T, db *mongo.Database, filter bson.D) func() {
	t.Helper()
	heads := db.Collection("mfa_heads")
	var raw bson.Raw
	if err := heads.FindOne(context.Background(), filter).Decode(&raw); err != nil {
		t.Fatalf("head %v: %v", filter, err)
	}
	id := raw.Lookup("_id").StringValue()
	return func() {
		t.Helper()
		if _, err := heads.ReplaceOne(context.Background(), bson.D{{Key: "_id", Value: id}}, raw); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHeadBehind(t *testing.T) {
	ctx := context.Background()
	db := newDatabase(t)
	s := newStore(t, db, mongostore.Config{})

	t.Run("Factor", func(t *testing.T) {
		f := store.Factor{UserID: "u1", ID: "f1", Kind: "totp", Status: store.StatusActive, Secret: []byte("sealed"), Created: t0}
		must(t, s.CreateFactor(ctx, f))
		behind := headOf(t, db, bson.D{{Key: "y", Value: "f"}, {Key: "u", Value: "u1"}})
		must(t, s.Advance(ctx, store.Advance{UserID: "u1", FactorID: "f1", From: 0, To: 5, Now: t0}))

		behind()
		got, err := s.GetFactor(ctx, "u1", "f1")
		if err != nil || got.Counter != 5 {
			t.Fatalf("GetFactor with its head behind: counter %d, %v; want 5", got.Counter, err)
		}
		behind()
		if list, err := s.ListFactors(ctx, "u1"); err != nil || len(list) != 1 || list[0].Counter != 5 {
			t.Fatalf("ListFactors with its head behind: %+v, %v", list, err)
		}
		behind()
		if err := s.Advance(ctx, store.Advance{UserID: "u1", FactorID: "f1", From: 0, To: 7, Now: t0}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("Advance from the head's stale counter: %v, want ErrConflict", err)
		}
		behind()
		must(t, s.Advance(ctx, store.Advance{UserID: "u1", FactorID: "f1", From: 5, To: 6, Now: t0}))
		behind()
		err = s.UpdateFactor(ctx, store.Factor{UserID: "u1", ID: "f1", Name: "phone", Status: store.StatusActive, Secret: []byte("sealed")})
		must(t, err)
		if got, err := s.GetFactor(ctx, "u1", "f1"); err != nil || got.Counter != 6 || got.Name != "phone" {
			t.Fatalf("after an update on a head behind: %+v, %v; want counter 6, name phone", got, err)
		}
	})

	t.Run("Lock", func(t *testing.T) {
		// A lock left in a head after the reset that lifted it does not
		// lock anyone.
		k := store.CounterKey{Scope: store.ScopeUser, UserID: "u2"}
		c := []store.Counter{{Key: k, Rule: store.Rule{Cap: 1}}}
		if _, err := s.Hit(ctx, store.HitRequest{Now: t0, Counters: c}); err != nil {
			t.Fatal(err)
		}
		locked := headOf(t, db, bson.D{{Key: "y", Value: "c"}, {Key: "k", Value: "c" + k.String()}})
		must(t, s.Reset(ctx, k))
		locked()
		res, err := s.Hit(ctx, store.HitRequest{Now: t0, Counters: c})
		if err != nil || !res.Admitted {
			t.Fatalf("Hit on a lock its head kept after a reset: %+v, %v; want admitted", res, err)
		}
		if st, err := s.CounterState(ctx, k); err != nil || st.Failures != 1 {
			t.Fatalf("counter: %+v, %v; want 1 failure", st, err)
		}
	})

	t.Run("Session", func(t *testing.T) {
		sess := store.Session{ID: "s1", UserID: "u3", Refresh: []byte("h0"), Created: t0, LastUsed: t0, IdleExpires: t0.Add(time.Hour), Expires: t0.Add(time.Hour)}
		must(t, s.CreateSession(ctx, sess))
		behind := headOf(t, db, bson.D{{Key: "y", Value: "s"}, {Key: "u", Value: "u3"}})
		rot := func(old, next string) error {
			_, err := s.RotateRefresh(ctx, store.Rotate{SessionID: "s1", Old: []byte(old), New: []byte(next), Now: t0, IdleExpires: t0.Add(time.Hour)})
			return err
		}
		must(t, rot("h0", "h1"))
		behind()
		must(t, rot("h1", "h2")) // current, though the head says h0
		behind()
		if err := rot("h0", "h9"); !errors.Is(err, store.ErrReused) {
			t.Fatalf("rotating a retired hash: %v, want ErrReused", err)
		}
	})
}

// TestSlowWriteRefused: a write that took longer than half the grace
// period from its read is refused with ErrSlow (Grace of a nanosecond:
// every write).
func TestSlowWriteRefused(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, newDatabase(t), mongostore.Config{Grace: time.Nanosecond})
	err := s.CreateSession(ctx, store.Session{ID: "s", UserID: "u", Created: t0, IdleExpires: t0.Add(time.Hour), Expires: t0.Add(time.Hour)})
	if !errors.Is(err, mongostore.ErrSlow) {
		t.Fatalf("CreateSession: %v, want ErrSlow", err)
	}
	_, err = s.Hit(ctx, store.HitRequest{Now: t0, Counters: []store.Counter{{Key: store.CounterKey{Scope: store.ScopeIP, IP: "192.0.2.1"}}}})
	if !errors.Is(err, mongostore.ErrSlow) {
		t.Fatalf("Hit: %v, want ErrSlow", err)
	}
}

// clock is a Config.Now a test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestSweepSuperseded: Sweep removes the versions superseded longer than
// Grace ago, and deleted factors and cleared counters as old, and the
// store goes on as before.
func TestSweepSuperseded(t *testing.T) {
	ctx := context.Background()
	db := newDatabase(t)
	clk := &clock{t: time.Now()}
	s := newStore(t, db, mongostore.Config{Now: clk.Now, Grace: time.Minute})
	versions := func(user string) int64 {
		t.Helper()
		n, err := db.Collection("mfa_versions").CountDocuments(ctx, bson.D{{Key: "u", Value: user}})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	must(t, s.CreateFactor(ctx, store.Factor{UserID: "keep", ID: "f", Kind: "totp", Status: store.StatusActive, Created: t0}))
	must(t, s.CreateFactor(ctx, store.Factor{UserID: "gone", ID: "f", Kind: "totp", Status: store.StatusActive, Created: t0}))
	for i := range int64(3) {
		must(t, s.Advance(ctx, store.Advance{UserID: "keep", FactorID: "f", From: i, To: i + 1, Now: t0}))
	}
	must(t, s.DeleteFactor(ctx, "gone", "f"))
	k := store.CounterKey{Scope: store.ScopeUser, UserID: "cleared"}
	if _, err := s.Hit(ctx, store.HitRequest{Now: t0, Counters: []store.Counter{{Key: k}}}); err != nil {
		t.Fatal(err)
	}
	must(t, s.Reset(ctx, k))

	if n, err := s.Sweep(ctx, t0); err != nil || versions("keep") != 4 || versions("gone") != 2 {
		t.Fatalf("Sweep within the grace period: %d, %v; %d and %d versions left, want all 4 and 2", n, err, versions("keep"), versions("gone"))
	}
	clk.Add(time.Minute + time.Second)
	n, err := s.Sweep(ctx, t0)
	if err != nil || n < 3+2+2 {
		t.Fatalf("Sweep after the grace period: %d, %v; want at least 7 documents", n, err)
	}
	if v := versions("keep"); v != 1 {
		t.Fatalf("%d versions of a factor left, want its newest only", v)
	}
	if v := versions("gone"); v != 0 {
		t.Fatalf("%d versions of a deleted factor left, want none", v)
	}
	got, err := s.GetFactor(ctx, "keep", "f")
	if err != nil || got.Counter != 3 {
		t.Fatalf("GetFactor after Sweep: %+v, %v", got, err)
	}
	must(t, s.Advance(ctx, store.Advance{UserID: "keep", FactorID: "f", From: 3, To: 4, Now: t0}))
	if _, err := s.GetFactor(ctx, "gone", "f"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetFactor of a swept deleted factor: %v", err)
	}
	must(t, s.CreateFactor(ctx, store.Factor{UserID: "gone", ID: "f", Kind: "totp", Status: store.StatusActive, Created: t0}))
	if st, err := s.CounterState(ctx, k); err != nil || st != (store.CounterState{}) {
		t.Fatalf("swept cleared counter: %+v, %v", st, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestAdvanceRepairsHead: a verification that loaded a factor from a head
// left behind fails (ErrConflict) and writes the head again, so the next
// one loads the factor as it is.
func TestAdvanceRepairsHead(t *testing.T) {
	ctx := context.Background()
	db := newDatabase(t)
	s := newStore(t, db, mongostore.Config{})
	must(t, s.CreateFactor(ctx, store.Factor{UserID: "u", ID: "f", Kind: "totp", Status: store.StatusActive, Created: t0}))
	behind := headOf(t, db, bson.D{{Key: "y", Value: "f"}, {Key: "u", Value: "u"}})
	must(t, s.Advance(ctx, store.Advance{UserID: "u", FactorID: "f", From: 0, To: 1, Now: t0}))
	behind()
	load := func() store.Factor {
		t.Helper()
		res, err := s.Hit(ctx, store.HitRequest{Now: t0, Load: store.FactorRef{UserID: "u", ID: "f"}})
		if err != nil || !res.Found {
			t.Fatalf("Hit loading the factor: %+v, %v", res, err)
		}
		return res.Factor
	}
	if f := load(); f.Counter != 0 {
		t.Fatalf("loaded counter %d from a head put back at 0", f.Counter)
	}
	// The stale counter matches the head, but version 1 is taken.
	if err := s.Advance(ctx, store.Advance{UserID: "u", FactorID: "f", From: 0, To: 2, Now: t0}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Advance from the stale counter: %v, want ErrConflict", err)
	}
	if f := load(); f.Counter != 1 {
		t.Fatalf("after the conflict the factor loads with counter %d, want 1", f.Counter)
	}
	must(t, s.Advance(ctx, store.Advance{UserID: "u", FactorID: "f", From: 1, To: 2, Now: t0}))
}

// TestAdvanceAfterHitElsewhere: the versions a Hit leaves for its
// Advance, in this process, are only a guess; when another process moved
// the factor or the counters meanwhile, the compare-and-set still holds.
func TestAdvanceAfterHitElsewhere(t *testing.T) {
	ctx := context.Background()
	db := newDatabase(t)
	a, b := newStore(t, db, mongostore.Config{}), newStore(t, db, mongostore.Config{})
	must(t, a.CreateFactor(ctx, store.Factor{UserID: "u", ID: "f", Kind: "totp", Status: store.StatusActive, Created: t0}))
	k := store.CounterKey{Scope: store.ScopeUser, UserID: "u"}
	hit := func(s *mongostore.Store) {
		t.Helper()
		res, err := s.Hit(ctx, store.HitRequest{Now: t0, Counters: []store.Counter{{Key: k}}, Load: store.FactorRef{UserID: "u", ID: "f"}})
		if err != nil || !res.Admitted || !res.Found {
			t.Fatalf("Hit: %+v, %v", res, err)
		}
	}
	advance := func(s *mongostore.Store, from, to int64) error {
		return s.Advance(ctx, store.Advance{UserID: "u", FactorID: "f", From: from, To: to, Now: t0, Reset: []store.CounterKey{k}})
	}
	hit(a)
	hit(b)
	must(t, advance(b, 0, 1))
	if err := advance(a, 0, 2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Advance after another process advanced the factor: %v, want ErrConflict", err)
	}
	// a's Hit counted on top of b's reset: the counter's version a
	// remembers is not the newest, and the reset still lands.
	hit(a)
	hit(b)
	must(t, advance(a, 1, 3))
	if st, err := a.CounterState(ctx, k); err != nil || st != (store.CounterState{}) {
		t.Fatalf("counter after the success: %+v, %v; want cleared", st, err)
	}
	if got, err := b.GetFactor(ctx, "u", "f"); err != nil || got.Counter != 3 {
		t.Fatalf("factor: %+v, %v; want counter 3", got, err)
	}
}
