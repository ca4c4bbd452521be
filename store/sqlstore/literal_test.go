package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/sqlstore"
)

// TestHotPathValues sends values that would break a query written with
// quotes (quotes, backslashes, NUL, bytes that are not UTF-8, SQL text)
// through the one-statement hot path of every dialect: Hit, Advance and
// RotateRefresh must keep them as bytes, and no value may change another
// record. On MySQL these calls are written as text (see literal.go).
func TestHotPathValues(t *testing.T) {
	odd := []string{"a'b", `c\'d`, "e\x00f", "g\";DROP TABLE x;--", "h\\", "'"}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, _ := newStore(t, b)
			ctx := context.Background()
			now := t0
			// NUL and bytes that are not UTF-8: only MySQL's VARBINARY
			// keeps them (PostgreSQL's text refuses them, as the doc says).
			var ids []string
			for _, id := range append(odd, "\xff\xfe") {
				if b.dialect == sqlstore.MySQL || (utf8.ValidString(id) && !strings.Contains(id, "\x00")) {
					ids = append(ids, id)
				}
			}
			for i, id := range ids {
				f := store.Factor{UserID: id, ID: id + "f", Kind: "totp", Status: store.StatusActive, Secret: []byte(id), Created: now}
				if err := s.CreateFactor(ctx, f); err != nil {
					t.Fatalf("%q: create: %v", id, err)
				}
				rule := store.Rule{Free: 2, Base: time.Minute, Max: time.Hour}
				key := store.CounterKey{Scope: store.ScopeUser, UserID: id}
				res, err := s.Hit(ctx, store.HitRequest{Now: now, Counters: []store.Counter{{Key: key, Rule: rule}}, Load: store.FactorRef{UserID: id, ID: id + "f"}})
				if err != nil || !res.Admitted || !res.Found || !bytes.Equal(res.Factor.Secret, []byte(id)) || res.Factor.UserID != id {
					t.Fatalf("%q: hit: %+v, %v", id, res, err)
				}
				if st, err := s.CounterState(ctx, key); err != nil || st.Failures != 1 {
					t.Fatalf("%q: counter after hit: %+v, %v", id, st, err)
				}
				err = s.Advance(ctx, store.Advance{UserID: id, FactorID: id + "f", From: 0, To: int64(i + 1), Data: []byte(id), Now: now, Reset: []store.CounterKey{key}})
				if err != nil {
					t.Fatalf("%q: advance: %v", id, err)
				}
				if got, err := s.GetFactor(ctx, id, id+"f"); err != nil || got.Counter != int64(i+1) || !bytes.Equal(got.Data, []byte(id)) {
					t.Fatalf("%q: factor after advance: %+v, %v", id, got, err)
				}
				if st, err := s.CounterState(ctx, key); err != nil || st.Failures != 0 {
					t.Fatalf("%q: counter after reset: %+v, %v", id, st, err)
				}
				if err := s.Advance(ctx, store.Advance{UserID: id, FactorID: id + "f", From: 0, To: 9, Now: now}); !errors.Is(err, store.ErrConflict) {
					t.Fatalf("%q: replayed advance: %v, want ErrConflict", id, err)
				}
				sess := store.Session{ID: id + "s", UserID: id, Refresh: []byte(id + "0"), Created: now, IdleExpires: now.Add(time.Hour), Expires: now.Add(time.Hour)}
				if err := s.CreateSession(ctx, sess); err != nil {
					t.Fatalf("%q: create session: %v", id, err)
				}
				got, err := s.RotateRefresh(ctx, store.Rotate{SessionID: sess.ID, Old: []byte(id + "0"), New: []byte(id + "1"), Data: []byte(id), Now: now, IdleExpires: now.Add(time.Hour)})
				if err != nil || got.ID != sess.ID || !bytes.Equal(got.Refresh, []byte(id+"1")) || !bytes.Equal(got.Data, []byte(id)) {
					t.Fatalf("%q: rotate: %+v, %v", id, got, err)
				}
				if _, err := s.RotateRefresh(ctx, store.Rotate{SessionID: sess.ID, Old: []byte(id + "0"), New: []byte("x"), Now: now, IdleExpires: now.Add(time.Hour)}); !errors.Is(err, store.ErrReused) {
					t.Fatalf("%q: reused hash: %v, want ErrReused", id, err)
				}
			}
			// Every factor is still there, each with its own secret.
			for _, id := range ids {
				if f, err := s.GetFactor(ctx, id, id+"f"); err != nil || !bytes.Equal(f.Secret, []byte(id)) {
					t.Errorf("%q: factor afterwards: %+v, %v", id, f, err)
				}
			}
		})
	}
}
