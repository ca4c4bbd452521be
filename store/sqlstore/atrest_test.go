package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base32"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/sqlstore"
	"github.com/mfakit/mfa/totp"
)

// TestNothingReadableAtRest enrols and uses a TOTP factor and a set of
// backup codes, then reads every row of every table (and, for SQLite, the
// database files' bytes) and finds no seed, code or key in any form.
func TestNothingReadableAtRest(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testAtRest(t, b) })
	}
}

var tables = []string{"factors", "counters", "challenges", "sessions", "retired_refresh", "devices", "schema_version"}

func testAtRest(t *testing.T, b backend) {
	ctx := context.Background()
	dsn := b.dsn(t)
	var files []string
	if b.dialect == sqlstore.SQLite {
		// A DSN of our own, to know where the files are.
		path := filepath.Join(t.TempDir(), "rest.db")
		dsn = sqliteDSN(path)
		files = []string{path, path + "-wal"}
	}
	db := b.open(t, dsn)
	s, err := sqlstore.New(db, b.dialect)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := t0
	tf, _ := totp.New(totp.Config{Issuer: "x"})
	bf, _ := backupcodes.New(backupcodes.Config{})
	kr, _ := mfa.NewKeyring(sealKey)
	v, err := mfa.New(mfa.Config{
		Store: s, Factors: []mfa.Factor{tf, bf}, Sealer: kr, HashKey: hashKey,
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}

	secrets := [][]byte{sealKey.Secret, hashKey}
	addText := func(s string) {
		for _, v := range []string{s, strings.ToLower(s), strings.ToUpper(s), strings.ReplaceAll(s, "-", "")} {
			secrets = append(secrets, []byte(v))
		}
	}

	// TOTP: enrol, confirm, verify once.
	fid, seed := enrol(t, v, "alice")
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(seed)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, raw)
	addText(seed)
	addText(testkit.TOTPCode(t, seed, t0))
	now = t0.Add(gap)
	c := testkit.TOTPCode(t, seed, now)
	addText(c)
	if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: c}); err != nil {
		t.Fatal(err)
	}

	// Backup codes: generate a set, use one, fail one guess.
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindBackupCodes, Name: "paper", AuthTime: now})
	if err != nil {
		t.Fatal(err)
	}
	codes := en.Show.(*backupcodes.Codes).List
	for _, c := range codes {
		addText(c)
	}
	if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: codes[0]}); err != nil {
		t.Fatal(err)
	}

	// A wrong guess leaves failure counters behind.
	if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: testkit.WrongTOTPCode(t, seed, now)}); err == nil {
		t.Fatal("a wrong code was accepted")
	}

	var dump bytes.Buffer
	rows := 0
	for _, table := range tables {
		rows += dumpTable(t, db, "mfa_"+table, &dump)
	}
	for _, want := range []string{"alice", fid, en.FactorID, "backup_codes"} {
		if !bytes.Contains(dump.Bytes(), []byte(want)) {
			t.Fatalf("the dump lacks %q: it does not read what the store wrote", want)
		}
	}
	check := func(where string, data []byte) {
		t.Helper()
		for _, s := range secrets {
			if bytes.Contains(data, s) {
				t.Errorf("%s holds a secret in the clear: %q", where, s)
			}
		}
	}
	check("the tables", dump.Bytes())
	// The SQLite files as they are while open (recent pages in the WAL),
	// then after Close has checkpointed the WAL into the database file.
	readFiles := func() {
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			check(filepath.Base(f), data)
		}
	}
	readFiles()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	readFiles()
	t.Logf("%d rows and %d database files checked for %d secret strings", rows, len(files), len(secrets))
}

// dumpTable appends every text and bytes value of every row of table to
// w, and returns the number of rows.
func dumpTable(t *testing.T, db *sql.DB, table string, w *bytes.Buffer) int {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				w.Write(v)
			case string:
				w.WriteString(v)
			default:
				// Numbers hold no secret; written as text they would hold
				// digit runs that a 6-digit code could match by chance.
				w.WriteString(fmt.Sprintf("%T", v))
			}
			w.WriteByte(0)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
