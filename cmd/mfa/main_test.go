package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/sqlstore"
	"github.com/mfakit/mfa/totp"
)

// result is one run of the CLI.
type result struct {
	code     int
	out, err string
}

// mfaRun runs the CLI in process with the environment vars.
func mfaRun(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return vars[k] }, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func (r result) want(t *testing.T, code int, contains ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.out, r.err)
	}
	for _, s := range contains {
		if !strings.Contains(r.out+r.err, s) {
			t.Fatalf("output lacks %q\nstdout: %s\nstderr: %s", s, r.out, r.err)
		}
	}
}

func randHex() string {
	var b [5]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// keyLines parses the output of `mfa keys new`.
func keyLines(t *testing.T, r result) (seal, hash string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "MFA_SEAL_KEYS":
			seal = v
		case "MFA_HASH_KEYS":
			hash = v
		}
	}
	if seal == "" || hash == "" {
		t.Fatalf("keys new printed %q", r.out)
	}
	return seal, hash
}

// TestSQLite and TestPostgres run every command end to end against a real
// database, the way an operator's script would.
func TestSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mfa.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	endToEnd(t, "sqlite:"+path, "", db, sqlstore.SQLite)
}

func TestPostgres(t *testing.T) {
	dsn := os.Getenv("MFA_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set MFA_TEST_POSTGRES_DSN to run the CLI against PostgreSQL")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatalf("MFA_TEST_POSTGRES_DSN does not answer: %v", err)
	}
	prefix := "mfa_cli_" + randHex() + "_"
	t.Cleanup(func() {
		rows, err := db.Query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE $1", prefix+"%")
		if err == nil {
			var names []string
			for rows.Next() {
				var n string
				rows.Scan(&n)
				names = append(names, `"`+n+`"`)
			}
			rows.Close()
			if len(names) > 0 {
				db.Exec("DROP TABLE " + strings.Join(names, ", "))
			}
		}
		db.Close()
	})
	endToEnd(t, dsn, prefix, db, sqlstore.Postgres)
}

func endToEnd(t *testing.T, url, prefix string, db *sql.DB, d sqlstore.Dialect) {
	ctx := context.Background()
	vars := map[string]string{"MFA_STORE_URL": url, "MFA_STORE_PREFIX": prefix}
	r := mfaRun(t, nil, "keys", "new", "-id", "k1")
	r.want(t, exitOK)
	seal1, hash1 := keyLines(t, r)

	// Not migrated: every command but migrate refuses, with exit 3.
	mfaRun(t, vars, "migrate", "-status").want(t, exitSchema, "schema version 0")
	mfaRun(t, vars, "factors", "alice").want(t, exitSchema, "run mfa migrate first")
	mfaRun(t, vars, "migrate").want(t, exitOK, "migrated to version")
	mfaRun(t, vars, "migrate").want(t, exitOK)
	mfaRun(t, vars, "migrate", "-status").want(t, exitOK)

	// Data written by the library with key k1: a TOTP factor, backup
	// codes, two failures.
	st, err := sqlstore.NewWithOptions(db, d, sqlstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := mfa.ParseKeys(seal1)
	hk, _ := mfa.ParseHashKeys(hash1)
	clk := testkit.NewClock(testkit.T0)
	newV := func(seal []mfa.Key) *mfa.Verifier {
		kr, err := mfa.NewKeyring(seal[0], seal[1:]...)
		if err != nil {
			t.Fatal(err)
		}
		tf, _ := totp.New(totp.Config{Issuer: "x"})
		v, err := mfa.New(mfa.Config{Store: st, Factors: []mfa.Factor{tf}, Sealer: kr, HashKeys: hk, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := newV(sk)
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	if err != nil {
		t.Fatal(err)
	}
	secret := en.Show.(*totp.Setup).Secret
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: testkit.TOTPCode(t, secret, clk.Now())}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		clk.Step()
		v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: "000000x"})
	}

	r = mfaRun(t, vars, "factors", "alice")
	r.want(t, exitOK, en.FactorID, "totp", "active", "2 consecutive failures")
	if strings.Contains(r.out, secret) {
		t.Fatal("factors printed the seed")
	}
	mfaRun(t, vars, "factors", "-json", "alice").want(t, exitOK, `"factors":[{`)
	mfaRun(t, vars, "factors", "nobody").want(t, exitOK, "0 factors")
	mfaRun(t, vars, "unlock", "alice").want(t, exitOK, "2 consecutive failures")
	mfaRun(t, vars, "factors", "alice").want(t, exitOK, "0 consecutive failures")

	// Rotate: k2 first, k1 kept; reseal; then k1 can go.
	seal2, _ := keyLines(t, mfaRun(t, nil, "keys", "new", "-id", "k2"))
	vars["MFA_SEAL_KEYS"] = seal2 + "," + seal1
	mfaRun(t, vars, "reseal", "-batch", "1").want(t, exitOK, "re-sealed 1,")
	mfaRun(t, vars, "reseal").want(t, exitOK, "re-sealed 0,")
	k2, _ := mfa.ParseKeys(seal2)
	clk.Step()
	if _, err := newV(k2).Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: testkit.TOTPCode(t, secret, clk.Now())}); err != nil {
		t.Fatalf("after reseal, with k1 retired: %v", err)
	}
	// Keys that open nothing: every secret is left alone, exit 4.
	seal3, _ := keyLines(t, mfaRun(t, nil, "keys", "new", "-id", "k3"))
	vars["MFA_SEAL_KEYS"] = seal3
	mfaRun(t, vars, "reseal").want(t, exitPartial, "failed 1")
	mfaRun(t, vars, "sweep").want(t, exitOK, "swept")

	// A store migrated by a newer release: refused, exit 3.
	if prefix == "" {
		prefix = sqlstore.DefaultPrefix
	}
	if _, err := db.Exec("INSERT INTO " + prefix + "schema_version (version, applied_us) VALUES (999, 0)"); err != nil {
		t.Fatal(err)
	}
	mfaRun(t, vars, "migrate").want(t, exitSchema, "newer than this tool")
	mfaRun(t, vars, "unlock", "alice").want(t, exitSchema, "newer than this tool")
}

// What an operator can get wrong: exit 2 for usage, 1 for a store that
// does not answer, and never a password in the output.
func TestBadInput(t *testing.T) {
	missing := "sqlite:" + filepath.Join(t.TempDir(), "none.db")
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		code int
		says string
	}{
		{"no command", nil, nil, exitUsage, "Usage: mfa COMMAND"},
		{"unknown command", nil, []string{"frobnicate"}, exitUsage, "unknown command"},
		{"unknown flag", nil, []string{"sweep", "-nope"}, exitUsage, "flag provided but not defined"},
		{"no store", nil, []string{"sweep"}, exitUsage, "no store"},
		{"unknown scheme", nil, []string{"sweep", "-store", "ftp://x"}, exitUsage, "unknown store URL scheme"},
		{"bad postgres URL", nil, []string{"sweep", "-store", "postgres://u:hunter2@[::1"}, exitUsage, "mfa sweep"},
		{"postgres not answering", nil, []string{"sweep", "-store", "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=5"}, exitFailed, "PostgreSQL 127.0.0.1:1/db"},
		{"redis not answering", nil, []string{"sweep", "-store", "redis://:hunter2@127.0.0.1:1/0"}, exitFailed, "Redis 127.0.0.1:1"},
		{"bad prefix", nil, []string{"sweep", "-store", missing, "-prefix", "Bad-Prefix"}, exitUsage, "prefix"},
		{"missing SQLite file", nil, []string{"sweep", "-store", missing}, exitFailed, "SQLite"},
		{"unlock without user", nil, []string{"unlock", "-store", missing}, exitUsage, "USER"},
		{"factors with two users", nil, []string{"factors", "-store", missing, "a", "b"}, exitUsage, "USER"},
		{"reseal without keys", nil, []string{"reseal", "-store", missing}, exitUsage, "-seal-keys"},
		{"reseal with bad keys", map[string]string{"MFA_SEAL_KEYS": "k1:hunter2!!"}, []string{"reseal", "-store", missing}, exitUsage, "-seal-keys"},
		{"keys without new", nil, []string{"keys"}, exitUsage, "keys new"},
		{"keys with a bad ID", nil, []string{"keys", "new", "-id", "a,b"}, exitUsage, "ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mfaRun(t, tc.vars, tc.args...)
			r.want(t, tc.code, tc.says)
			if strings.Contains(r.out+r.err, "hunter2") {
				t.Fatalf("output shows a secret: %s%s", r.out, r.err)
			}
		})
	}
}

// Every command answers -h and --help on stdout with exit 0.
func TestHelp(t *testing.T) {
	mfaRun(t, nil, "--help").want(t, exitOK, "Exit codes")
	mfaRun(t, nil, "help", "reseal").want(t, exitOK, "Usage: mfa reseal")
	for _, c := range commands {
		for _, h := range []string{"-h", "--help"} {
			args := []string{c.name, h}
			if c.name == "keys" {
				args = []string{"keys", "new", h}
			}
			r := mfaRun(t, nil, args...)
			r.want(t, exitOK, "Usage: mfa "+c.name)
			if r.out == "" {
				t.Fatalf("%s %s: help not on stdout", c.name, h)
			}
		}
	}
}
