package sqlstore_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/sqlstore"
)

// BenchmarkVerifyTOTP measures one successful TOTP verification (two store
// calls: Hit, then Advance) per dialect, one at a time and from parallel
// goroutines (b.RunParallel with 4 goroutines per CPU, each its own user).
// SQLiteOneConnection is SQLite with db.SetMaxOpenConns(1).
func BenchmarkVerifyTOTP(b *testing.B) {
	type variant struct {
		backend
		name     string
		maxConns int // 0: the tests' default
	}
	variants := []variant{
		{sqliteBackend, "SQLite", 0},
		{sqliteBackend, "SQLiteOneConnection", 1},
		{postgresBackend, "Postgres", 0},
		{mysqlBackend, "MySQL", 0},
	}
	for _, be := range variants {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b, be.dsn(b))
			if be.maxConns > 0 {
				db.SetMaxOpenConns(be.maxConns)
			}
			s, err := sqlstore.New(db, be.dialect)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Run("Sequential", func(b *testing.B) {
				u := benchUser(b, s)
				for b.Loop() {
					if err := u.verify(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Parallel", func(b *testing.B) {
				const perCPU = 4
				b.SetParallelism(perCPU)
				users := make([]*benchVerifier, perCPU*runtime.GOMAXPROCS(0))
				for i := range users {
					users[i] = benchUser(b, s)
				}
				var next atomic.Int64
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					u := users[next.Add(1)-1]
					for pb.Next() {
						if err := u.verify(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

// benchVerifier is one user with a Verifier whose clock moves one TOTP
// step per verification, so every code is new.
type benchVerifier struct {
	tb           testing.TB
	v            *mfa.Verifier
	clock        atomic.Int64
	user, factor string
	secret       string
	step         int
}

func benchUser(b *testing.B, s *sqlstore.Store) *benchVerifier {
	u := &benchVerifier{tb: b, user: randName("bench-")}
	u.clock.Store(t0.UnixNano())
	v, err := newVerifier(s, func() time.Time { return time.Unix(0, u.clock.Load()).UTC() }, mfa.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	u.v = v
	u.factor, u.secret = enrol(b, v, u.user)
	return u
}

func (u *benchVerifier) verify() error {
	u.step++
	at := t0.Add(time.Duration(u.step) * gap)
	u.clock.Store(at.UnixNano())
	_, err := u.v.Verify(context.Background(), mfa.VerifyRequest{UserID: u.user, FactorID: u.factor, Response: testkit.TOTPCode(u.tb, u.secret, at)})
	return err
}
