package backupcodes_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
)

// reference is a plain restatement of the input rules, to check the
// package's normaliser against.
func reference(s string) (string, bool) {
	if len(s) > backupcodes.MaxInput {
		return "", false
	}
	s = strings.NewReplacer(" ", "", "-", "").Replace(s)
	s = strings.NewReplacer("I", "1", "i", "1", "L", "1", "l", "1", "O", "0", "o", "0").Replace(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if !strings.ContainsRune(backupcodes.Alphabet, rune(c)) {
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), b.Len() == backupcodes.CodeLen
}

// FuzzVerify feeds arbitrary responses and used-code bitmaps. Verify must
// never panic, must refuse exactly what the input rules refuse, and must
// match only the code the response spells, once.
func FuzzVerify(f *testing.F) {
	s := enroll(f, newFactor(f, backupcodes.Config{Count: 5}), newHasher(f, 1), 11)
	for _, c := range s.codes {
		f.Add(c, int64(0))
		f.Add(strings.ToUpper(plain(c)), int64(31))
	}
	for _, r := range []string{"", "-", "0000-0000-00000", "ilo", "１２３", strings.Repeat("a", 65), "abcd efgh jkmnp\x00"} {
		f.Add(r, int64(2))
	}
	f.Fuzz(func(t *testing.T, resp string, used int64) {
		used &= 1<<5 - 1 // a valid bitmap for five codes
		m, err := s.verify(used, resp)
		norm, wellFormed := reference(resp)
		want := -1
		for i, c := range s.codes {
			if wellFormed && norm == plain(c) {
				want = i
			}
		}
		switch {
		case !wellFormed:
			if !errors.Is(err, mfa.ErrMalformedResponse) {
				t.Fatalf("Verify(%q) error = %v, want mfa.ErrMalformedResponse", resp, err)
			}
		case want < 0:
			if !errors.Is(err, mfa.ErrWrongCode) {
				t.Fatalf("Verify(%q) error = %v, want mfa.ErrWrongCode", resp, err)
			}
		case used&(1<<want) != 0:
			if !errors.Is(err, mfa.ErrReplayed) {
				t.Fatalf("Verify(%q) of used code %d: error = %v, want mfa.ErrReplayed", resp, want, err)
			}
		default:
			if err != nil || m.Counter != used|1<<want {
				t.Fatalf("Verify(%q) = %b, %v; want code %d matched", resp, m.Counter, err, want)
			}
		}
	})
}
