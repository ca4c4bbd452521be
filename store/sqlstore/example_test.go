package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	otptotp "github.com/pquerna/otp/totp"
	_ "modernc.org/sqlite" // the application picks the driver

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/store/sqlstore"
	"github.com/mfakit/mfa/totp"
)

// Keep MFA state in a SQLite file: open it with a busy timeout and WAL,
// migrate once, and hand the store to the Verifier. PostgreSQL and MySQL
// differ only in the driver, the DSN and the Dialect.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "mfa-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	dsn := "file:" + filepath.Join(dir, "mfa.db") + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	s, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		panic(err)
	}
	if err := s.Migrate(ctx); err != nil { // idempotent; run at start-up or deploy
		panic(err)
	}
	fmt.Println("schema version", s.SchemaVersion())

	now := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	tf, _ := totp.New(totp.Config{Issuer: "Example"})
	// Real keys come from a secret manager, never from source code.
	keyring, _ := mfa.NewKeyring(mfa.Key{ID: "2026-01", Secret: bytes.Repeat([]byte{1}, 32)})
	v, err := mfa.New(mfa.Config{
		Store:   s,
		Factors: []mfa.Factor{tf},
		Sealer:  keyring,
		HashKey: bytes.Repeat([]byte{2}, 32),
		Now:     func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}

	en, _ := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP, Account: "alice@example.com"})
	setup, _ := mfa.ShowAs[*totp.Setup](en.Show)
	code, _ := otptotp.GenerateCode(setup.Secret, now)
	_, err = v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: code})
	fmt.Println("enrolled:", err == nil)

	now = now.Add(30 * time.Second)
	code, _ = otptotp.GenerateCode(setup.Secret, now)
	_, err = v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: code})
	fmt.Println("verified:", err == nil)
	_, err = v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: code})
	fmt.Println("replay refused:", errors.Is(err, mfa.ErrReplayed))

	// A scheduled job removes expired rows.
	if _, err := s.Sweep(ctx, now); err != nil {
		panic(err)
	}
	// Output:
	// schema version 8
	// enrolled: true
	// verified: true
	// replay refused: true
}
