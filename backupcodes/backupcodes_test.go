package backupcodes_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

func newHasher(t testing.TB, b byte) *mfa.Hasher {
	t.Helper()
	h, err := mfa.NewHasher(bytes.Repeat([]byte{b}, mfa.MinHashKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newFactor(t testing.TB, cfg backupcodes.Config) *backupcodes.Factor {
	t.Helper()
	f, err := backupcodes.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return f
}

// set is one enrolled set of codes.
type set struct {
	f      *backupcodes.Factor
	hasher *mfa.Hasher
	data   []byte
	codes  []string
}

func enroll(t testing.TB, f *backupcodes.Factor, h *mfa.Hasher, seed byte) set {
	t.Helper()
	e, err := f.Enroll(context.Background(), factor.EnrollInput{
		UserID: "u1", FactorID: "f1", Account: "alice",
		Rand: rand.NewChaCha8([32]byte{seed}), Hasher: h,
	})
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	c, ok := e.Show.(*backupcodes.Codes)
	if !ok {
		t.Fatalf("Show is %T, want *backupcodes.Codes", e.Show)
	}
	return set{f: f, hasher: h, data: e.Data, codes: c.List}
}

func (s set) verify(used int64, response string) (factor.Match, error) {
	return s.f.Verify(context.Background(), factor.VerifyInput{
		Factor:   store.Factor{Kind: string(mfa.KindBackupCodes), Data: s.data, Counter: used},
		Response: response,
		Hasher:   s.hasher,
	})
}

// plain is a code as the user would type it with no separators.
func plain(code string) string { return strings.ReplaceAll(code, "-", "") }

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  backupcodes.Config
		ok   bool
	}{
		{"defaults", backupcodes.Config{}, true},
		{"one code", backupcodes.Config{Count: 1}, true},
		{"max", backupcodes.Config{Count: backupcodes.MaxCount, LowWatermark: 10}, true},
		{"watermark above count", backupcodes.Config{Count: 2, LowWatermark: 5}, true},
		{"too many", backupcodes.Config{Count: backupcodes.MaxCount + 1}, false},
		{"negative count", backupcodes.Config{Count: -1}, false},
		{"negative watermark", backupcodes.Config{LowWatermark: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := backupcodes.New(tt.cfg)
			if tt.ok {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if f.Kind() != mfa.KindBackupCodes {
					t.Errorf("Kind = %q", f.Kind())
				}
				return
			}
			if !errors.Is(err, mfa.ErrConfig) || !strings.HasPrefix(err.Error(), "mfa: ") {
				t.Fatalf("New error = %v, want one wrapping mfa.ErrConfig", err)
			}
		})
	}
}

func TestGeneration(t *testing.T) {
	if len(backupcodes.Alphabet) != 32 {
		t.Fatalf("alphabet has %d characters, want 32", len(backupcodes.Alphabet))
	}
	for _, c := range "ilou" {
		if strings.ContainsRune(backupcodes.Alphabet, c) {
			t.Errorf("alphabet holds look-alike %q", c)
		}
	}
	if bits := float64(backupcodes.CodeLen) * math.Log2(32); bits < 64 {
		t.Fatalf("a code carries %.0f bits, want at least 64", bits)
	}

	seen := map[string]bool{}
	chars := map[rune]int{}
	for _, count := range []int{0, 1, 10, 37, backupcodes.MaxCount} {
		t.Run(fmt.Sprint(count), func(t *testing.T) {
			want := count
			if want == 0 {
				want = 10
			}
			f := newFactor(t, backupcodes.Config{Count: count})
			e, err := f.Enroll(context.Background(), factor.EnrollInput{Rand: rand.NewChaCha8([32]byte{byte(count)}), Hasher: newHasher(t, 1)})
			if err != nil {
				t.Fatal(err)
			}
			if !e.Active || e.Counter != 0 || e.Secret != nil || e.Challenge != nil {
				t.Errorf("Enrolled = {Active:%v Counter:%d Secret:%v Challenge:%v}, want active, 0, nil, nil",
					e.Active, e.Counter, e.Secret, e.Challenge)
			}
			if got, wantLen := len(e.Data), 1+16+32*want; got != wantLen {
				t.Errorf("len(Data) = %d, want %d", got, wantLen)
			}
			list := e.Show.(*backupcodes.Codes).List
			if len(list) != want {
				t.Fatalf("%d codes, want %d", len(list), want)
			}
			for _, c := range list {
				// Display form: 4-4-5 groups of the alphabet.
				g := strings.Split(c, "-")
				if len(g) != 3 || len(g[0]) != 4 || len(g[1]) != 4 || len(g[2]) != 5 {
					t.Errorf("code %q is not grouped 4-4-5", c)
				}
				for _, r := range plain(c) {
					if !strings.ContainsRune(backupcodes.Alphabet, r) {
						t.Errorf("code %q holds %q, outside the alphabet", c, r)
					}
					chars[r]++
				}
				if seen[c] {
					t.Errorf("code %q drawn twice", c)
				}
				seen[c] = true
			}
		})
	}
	// 121 codes, 1573 characters: every character of the alphabet is used.
	for _, r := range backupcodes.Alphabet {
		if chars[r] == 0 {
			t.Errorf("character %q never drawn", r)
		}
	}
}

// repeating is a broken random source that returns the same bytes forever.
type repeating struct{}

func (repeating) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 7
	}
	return len(p), nil
}

func TestEnrollRejects(t *testing.T) {
	f := newFactor(t, backupcodes.Config{})
	h := newHasher(t, 1)
	tests := []struct {
		name string
		in   factor.EnrollInput
		want error
	}{
		{"no random source", factor.EnrollInput{Hasher: h}, mfa.ErrInvalidInput},
		{"no hasher", factor.EnrollInput{Rand: rand.NewChaCha8([32]byte{})}, mfa.ErrConfig},
		{"repeating random source", factor.EnrollInput{Rand: repeating{}, Hasher: h}, mfa.ErrInvalidInput},
		{"random source runs dry", factor.EnrollInput{Rand: io.LimitReader(rand.NewChaCha8([32]byte{}), 100), Hasher: h}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := f.Enroll(context.Background(), tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Enroll error = %v, want %v", err, tt.want)
			}
			if e.Data != nil || e.Show != nil {
				t.Errorf("Enroll returned material with an error")
			}
		})
	}
}

func TestStoredDataHoldsNoCode(t *testing.T) {
	s := enroll(t, newFactor(t, backupcodes.Config{Count: backupcodes.MaxCount}), newHasher(t, 1), 3)
	for _, c := range s.codes {
		for _, form := range []string{c, plain(c), strings.ToUpper(c), strings.ToUpper(plain(c))} {
			if bytes.Contains(s.data, []byte(form)) {
				t.Errorf("stored Data contains code %q", form)
			}
		}
	}
}

func TestNormalization(t *testing.T) {
	s := enroll(t, newFactor(t, backupcodes.Config{}), newHasher(t, 1), 4)
	code := s.codes[0]   // "abcd-efgh-jkmnp"
	p := plain(code)     // "abcdefghjkmnp"
	var lookalike []byte // the code with every 1 and 0 typed as a look-alike
	for i, c := range []byte(p) {
		switch {
		case c == '1' && i%2 == 0:
			c = 'l'
		case c == '1':
			c = 'I'
		case c == '0' && i%2 == 0:
			c = 'o'
		case c == '0':
			c = 'O'
		}
		lookalike = append(lookalike, c)
	}
	accepted := []struct{ name, resp string }{
		{"display form", code},
		{"plain", p},
		{"upper case", strings.ToUpper(code)},
		{"mixed case", strings.ToUpper(p[:6]) + p[6:]},
		{"spaces", strings.ReplaceAll(code, "-", " ")},
		{"padded", "  " + code + "  "},
		{"spaced out", strings.Join(strings.Split(p, ""), " ")},
		{"extra hyphens", "-" + strings.Join(strings.Split(p, ""), "--") + "-"},
		{"look-alikes", string(lookalike)},
		{"64 bytes", code + strings.Repeat(" ", backupcodes.MaxInput-len(code))},
	}
	for _, tt := range accepted {
		t.Run("accept/"+tt.name, func(t *testing.T) {
			m, err := s.verify(0, tt.resp)
			if err != nil {
				t.Fatalf("Verify(%q): %v", tt.resp, err)
			}
			if m.Counter != 1 {
				t.Errorf("Match.Counter = %b, want bit 0", m.Counter)
			}
		})
	}
	rejected := []struct{ name, resp string }{
		{"empty", ""},
		{"only separators", " - - "},
		{"too short", p[:12]},
		{"too long", p + "a"},
		{"two codes", p + s.codes[1]},
		{"u", p[:12] + "u"},
		{"underscore", p[:4] + "_" + p[4:]},
		{"dot", p[:4] + "." + p[4:]},
		{"tab", p[:4] + "\t" + p[4:]},
		{"newline", p + "\n"},
		{"NUL", p + "\x00"},
		{"fullwidth", strings.Map(func(r rune) rune { return r - 'a' + 'ａ' }, "abcdefghjkmnp")},
		{"cyrillic a", "а" + p[1:]},
		{"non-breaking space", p[:4] + "\u00a0" + p[4:]},
		{"invalid UTF-8", p[:12] + "\xff"},
		{"65 bytes", code + strings.Repeat(" ", backupcodes.MaxInput+1-len(code))},
		{"oversized", strings.Repeat(code, 1000)},
	}
	for _, tt := range rejected {
		t.Run("reject/"+tt.name, func(t *testing.T) {
			if _, err := s.verify(0, tt.resp); !errors.Is(err, mfa.ErrMalformedResponse) {
				t.Fatalf("Verify(%q) error = %v, want mfa.ErrMalformedResponse", tt.resp, err)
			}
		})
	}
}

// Each code works once; the bitmap returned by one use, committed as the
// counter, makes that code a replay and leaves the others usable.
func TestSingleUse(t *testing.T) {
	const count = 12
	s := enroll(t, newFactor(t, backupcodes.Config{Count: count, LowWatermark: 4}), newHasher(t, 1), 5)
	var used int64
	order := rand.New(rand.NewPCG(1, 2)).Perm(count)
	for n, i := range order {
		m, err := s.verify(used, s.codes[i])
		if err != nil {
			t.Fatalf("use %d, code %d: %v", n, i, err)
		}
		if want := used | 1<<i; m.Counter != want {
			t.Fatalf("code %d: Counter = %b, want %b", i, m.Counter, want)
		}
		if want := count - n - 1; m.Remaining != want {
			t.Errorf("code %d: Remaining = %d, want %d", i, m.Remaining, want)
		}
		wantNotes := []mfa.EventType{mfa.EventBackupCodeUsed}
		if m.Remaining <= 4 {
			wantNotes = append(wantNotes, mfa.EventBackupCodesLow)
		}
		if !slices.Equal(m.Notes, wantNotes) {
			t.Errorf("code %d, %d left: Notes = %v, want %v", i, m.Remaining, m.Notes, wantNotes)
		}
		if m.AAL != mfa.AAL2 || !slices.Equal(m.AMR, []string{"otp"}) {
			t.Errorf("Match = %+v, want AAL2, AMR [otp]", m)
		}
		used = m.Counter
		if _, err := s.verify(used, s.codes[i]); !errors.Is(err, mfa.ErrReplayed) {
			t.Fatalf("code %d again: error = %v, want mfa.ErrReplayed", i, err)
		}
	}
	for i, c := range s.codes {
		if _, err := s.verify(used, c); !errors.Is(err, mfa.ErrReplayed) {
			t.Errorf("code %d after all used: error = %v, want mfa.ErrReplayed", i, err)
		}
	}
}

func TestWrongCodes(t *testing.T) {
	f := newFactor(t, backupcodes.Config{})
	a := enroll(t, f, newHasher(t, 1), 6)
	b := enroll(t, f, newHasher(t, 1), 7) // same key, other salt and codes
	otherKey := a                         // same Data, hashed under another key
	otherKey.hasher = newHasher(t, 2)
	tests := []struct {
		name string
		s    set
		resp string
	}{
		{"code of another set", a, b.codes[0]},
		{"same data, other hash key", otherKey, a.codes[0]},
		{"well-formed guess", a, "0000-0000-00000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.s.verify(0, tt.resp); !errors.Is(err, mfa.ErrWrongCode) {
				t.Fatalf("error = %v, want mfa.ErrWrongCode", err)
			}
		})
	}
}

func TestCorruptStoredData(t *testing.T) {
	s := enroll(t, newFactor(t, backupcodes.Config{Count: 3}), newHasher(t, 1), 8)
	badVersion := bytes.Clone(s.data)
	badVersion[0] = 2
	tests := []struct {
		name string
		data []byte
		used int64
	}{
		{"nil", nil, 0},
		{"header only", s.data[:17], 0},
		{"truncated hash", s.data[:len(s.data)-1], 0},
		{"extra byte", append(bytes.Clone(s.data), 0), 0},
		{"bad version", badVersion, 0},
		{"64 hashes", append(bytes.Clone(s.data[:17]), make([]byte, 64*32)...), 0},
		{"bitmap beyond the set", s.data, 1 << 3},
		{"negative bitmap", s.data, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := s
			c.data = tt.data
			if _, err := c.verify(tt.used, s.codes[0]); !errors.Is(err, mfa.ErrSealed) {
				t.Fatalf("error = %v, want mfa.ErrSealed", err)
			}
		})
	}
	t.Run("no hasher", func(t *testing.T) {
		c := s
		c.hasher = nil
		if _, err := c.verify(0, s.codes[0]); !errors.Is(err, mfa.ErrConfig) {
			t.Fatalf("error = %v, want mfa.ErrConfig", err)
		}
	})
}

func TestCodesRedacted(t *testing.T) {
	s := enroll(t, newFactor(t, backupcodes.Config{}), newHasher(t, 1), 9)
	c := &backupcodes.Codes{List: s.codes}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("enrolled", "codes", c)
	outputs := map[string]string{
		"%v":     fmt.Sprintf("%v", c),
		"%+v":    fmt.Sprintf("%+v", *c),
		"%#v":    fmt.Sprintf("%#v", c),
		"Sprint": fmt.Sprint(*c),
		"slog":   logged.String(),
	}
	for verb, out := range outputs {
		for _, code := range s.codes {
			if strings.Contains(out, code) || strings.Contains(out, code[:4]) {
				t.Errorf("%s output reveals a code: %s", verb, out)
			}
		}
	}
}

// One hash per attempt whatever the number of codes: the allocations of a
// verification (all in the Hasher) do not grow with the set.
func TestWorkIndependentOfCount(t *testing.T) {
	h := newHasher(t, 1)
	allocs := map[int]float64{}
	for _, count := range []int{1, 10, backupcodes.MaxCount} {
		s := enroll(t, newFactor(t, backupcodes.Config{Count: count}), h, 10)
		for name, resp := range map[string]string{"right": s.codes[count-1], "wrong": "0000-0000-00000"} {
			allocs[count] = testing.AllocsPerRun(50, func() { _, _ = s.verify(0, resp) })
			if allocs[count] != allocs[1] {
				t.Errorf("%s code, %d codes: %v allocs per attempt, %v with 1 code", name, count, allocs[count], allocs[1])
			}
		}
	}
}

func TestRemaining(t *testing.T) {
	f := newFactor(t, backupcodes.Config{Count: 5})
	s := enroll(t, f, newHasher(t, 1), 1)
	tests := []struct {
		name string
		rec  store.Factor
		want int
	}{
		{"fresh", store.Factor{Data: s.data}, 5},
		{"two used", store.Factor{Data: s.data, Counter: 0b10010}, 3},
		{"all used", store.Factor{Data: s.data, Counter: 0b11111}, 0},
		{"bit beyond the set", store.Factor{Data: s.data, Counter: 1 << 5}, -1},
		{"negative bitmap", store.Factor{Data: s.data, Counter: -1}, -1},
		{"truncated data", store.Factor{Data: s.data[:len(s.data)-1]}, -1},
		{"no data", store.Factor{}, -1},
	}
	for _, tt := range tests {
		if got := f.Remaining(tt.rec); got != tt.want {
			t.Errorf("%s: Remaining = %d, want %d", tt.name, got, tt.want)
		}
	}
}
