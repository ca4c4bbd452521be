package totp_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/totp"
	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"
)

// code is the pquerna/otp code of seed at now, an oracle independent of
// this package.
func code(t testing.TB, seed []byte, now time.Time, alg otp.Algorithm, digits int, period uint) string {
	t.Helper()
	c, err := ptotp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(seed), now, ptotp.ValidateOpts{
		Period: period, Digits: otp.Digits(digits), Algorithm: alg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  totp.Config
		ok   bool
	}{
		{"defaults", totp.Config{Issuer: "Acme"}, true},
		{"all set", totp.Config{Issuer: "Acme Inc.", Algorithm: totp.SHA512, Digits: 8, Period: 60 * time.Second, Skew: 2, SecretSize: 32}, true},
		{"sha256", totp.Config{Issuer: "Acme", Algorithm: totp.SHA256}, true},
		{"no skew", totp.Config{Issuer: "Acme", Skew: totp.NoSkew}, true},
		{"max period", totp.Config{Issuer: "Acme", Period: totp.MaxPeriod}, true},
		{"min secret", totp.Config{Issuer: "Acme", SecretSize: totp.MinSecretSize}, true},
		{"max secret", totp.Config{Issuer: "Acme", SecretSize: totp.MaxSecretSize}, true},
		{"no issuer", totp.Config{}, false},
		{"colon in issuer", totp.Config{Issuer: "Acme:Corp"}, false},
		{"unknown algorithm", totp.Config{Issuer: "Acme", Algorithm: 3}, false},
		{"negative algorithm", totp.Config{Issuer: "Acme", Algorithm: -1}, false},
		{"7 digits", totp.Config{Issuer: "Acme", Digits: 7}, false},
		{"10 digits", totp.Config{Issuer: "Acme", Digits: 10}, false},
		{"negative digits", totp.Config{Issuer: "Acme", Digits: -6}, false},
		{"period too long", totp.Config{Issuer: "Acme", Period: totp.MaxPeriod + time.Second}, false},
		{"fractional period", totp.Config{Issuer: "Acme", Period: 30*time.Second + time.Millisecond}, false},
		{"sub-second period", totp.Config{Issuer: "Acme", Period: time.Millisecond}, false},
		{"negative period", totp.Config{Issuer: "Acme", Period: -30 * time.Second}, false},
		{"skew too large", totp.Config{Issuer: "Acme", Skew: totp.MaxSkew + 1}, false},
		{"skew -2", totp.Config{Issuer: "Acme", Skew: -2}, false},
		{"secret too short", totp.Config{Issuer: "Acme", SecretSize: totp.MinSecretSize - 1}, false},
		{"secret too long", totp.Config{Issuer: "Acme", SecretSize: totp.MaxSecretSize + 1}, false},
		{"negative secret", totp.Config{Issuer: "Acme", SecretSize: -20}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := totp.New(tt.cfg)
			if tt.ok {
				if err != nil || f == nil {
					t.Fatalf("New: %v", err)
				}
				if f.Kind() != mfa.KindTOTP {
					t.Errorf("Kind = %q, want %q", f.Kind(), mfa.KindTOTP)
				}
				return
			}
			if !errors.Is(err, mfa.ErrConfig) {
				t.Fatalf("New error = %v, want one wrapping mfa.ErrConfig", err)
			}
			if !strings.HasPrefix(err.Error(), "mfa: ") {
				t.Errorf("error %q lacks the mfa: prefix", err)
			}
		})
	}
}

func enroll(t *testing.T, f *totp.Factor, account string) (factor.Enrolled, *totp.Setup) {
	t.Helper()
	e, err := f.Enroll(context.Background(), factor.EnrollInput{
		UserID: "u1", FactorID: "f1", Account: account,
		Now: time.Unix(1700000000, 0), Rand: rand.NewChaCha8([32]byte{7}),
	})
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	s, ok := e.Show.(*totp.Setup)
	if !ok {
		t.Fatalf("Show is %T, want *totp.Setup", e.Show)
	}
	return e, s
}

func TestEnroll(t *testing.T) {
	tests := []struct {
		cfg     totp.Config
		account string
		params  url.Values
	}{
		{totp.Config{Issuer: "Acme"}, "alice@example.com",
			url.Values{"algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}},
		{totp.Config{Issuer: "Acme Corp", Algorithm: totp.SHA256, Digits: 8, Period: 60 * time.Second, SecretSize: 32}, "bob",
			url.Values{"algorithm": {"SHA256"}, "digits": {"8"}, "period": {"60"}}},
		{totp.Config{Issuer: "Ünïcode & Co", Algorithm: totp.SHA512, SecretSize: 64}, "ünï",
			url.Values{"algorithm": {"SHA512"}, "digits": {"6"}, "period": {"30"}}},
		// Characters with a meaning in URIs survive the round trip.
		{totp.Config{Issuer: "A+B=C;D%E#F?G/H"}, "carol+tag@example.com/?#&=% x",
			url.Values{"algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}},
	}
	for _, tt := range tests {
		t.Run(tt.cfg.Issuer, func(t *testing.T) {
			f := newFactor(t, tt.cfg)
			account := tt.account
			e, s := enroll(t, f, account)

			size := tt.cfg.SecretSize
			if size == 0 {
				size = 20
			}
			if len(e.Secret) != size {
				t.Errorf("len(Secret) = %d, want %d", len(e.Secret), size)
			}
			if e.Active || e.Counter != 0 || e.Challenge != nil || e.Lookup != "" {
				t.Errorf("Enrolled = {Active:%v Counter:%d Challenge:%v Lookup:%q}, want pending, 0, nil, empty",
					e.Active, e.Counter, e.Challenge, e.Lookup)
			}
			if got, want := s.Secret, base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(e.Secret); got != want {
				t.Errorf("Setup.Secret = %q, want %q", got, want)
			}
			if s.Issuer != tt.cfg.Issuer || s.Account != account {
				t.Errorf("Setup issuer/account = %q/%q", s.Issuer, s.Account)
			}

			// otpauth://totp/Issuer:account?secret=...&issuer=Issuer&algorithm=..&digits=..&period=..
			u, err := url.Parse(s.URI)
			if err != nil {
				t.Fatalf("URI %q: %v", s.URI, err)
			}
			if u.Scheme != "otpauth" || u.Host != "totp" {
				t.Errorf("URI %q: scheme/host %q/%q, want otpauth/totp", s.URI, u.Scheme, u.Host)
			}
			if want := "/" + tt.cfg.Issuer + ":" + account; u.Path != want {
				t.Errorf("URI path = %q, want %q", u.Path, want)
			}
			q, err := url.ParseQuery(u.RawQuery)
			if err != nil {
				t.Fatalf("URI query %q: %v", u.RawQuery, err)
			}
			if len(q) != 5 {
				t.Errorf("URI query has %d parameters, want 5: %q", len(q), u.RawQuery)
			}
			if strings.Contains(s.URI, "+") {
				t.Errorf("URI %q holds a '+', which some apps read as a space", s.URI)
			}
			if q.Get("secret") != s.Secret {
				t.Errorf("URI secret = %q, want %q", q.Get("secret"), s.Secret)
			}
			if q.Get("issuer") != tt.cfg.Issuer {
				t.Errorf("URI issuer = %q, want %q", q.Get("issuer"), tt.cfg.Issuer)
			}
			for k := range tt.params {
				if q.Get(k) != tt.params.Get(k) {
					t.Errorf("URI %s = %q, want %q", k, q.Get(k), tt.params.Get(k))
				}
			}

			// The enrolled seed verifies with the parameters the URI gave
			// the app.
			alg := map[string]otp.Algorithm{"SHA1": otp.AlgorithmSHA1, "SHA256": otp.AlgorithmSHA256, "SHA512": otp.AlgorithmSHA512}[q.Get("algorithm")]
			digits, err := strconv.Atoi(q.Get("digits"))
			if err != nil {
				t.Fatalf("URI digits: %v", err)
			}
			period, err := strconv.ParseUint(q.Get("period"), 10, 32)
			if err != nil {
				t.Fatalf("URI period: %v", err)
			}
			now := time.Unix(1800000000, 0)
			in := factor.VerifyInput{
				Factor:   store.Factor{Data: e.Data, Counter: e.Counter},
				Secret:   e.Secret,
				Response: code(t, e.Secret, now, alg, digits, uint(period)),
				Now:      now,
			}
			if _, err := f.Verify(context.Background(), in); err != nil {
				t.Errorf("Verify of the app's code: %v", err)
			}
		})
	}
}

func TestEnrollFreshSeeds(t *testing.T) {
	f := newFactor(t, totp.Config{})
	rng := rand.NewChaCha8([32]byte{9})
	seen := map[string]bool{}
	for range 20 {
		e, err := f.Enroll(context.Background(), factor.EnrollInput{Account: "bob", Rand: rng})
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(e.Secret)] {
			t.Fatalf("seed %x drawn twice", e.Secret)
		}
		seen[string(e.Secret)] = true
	}
}

func TestEnrollRejects(t *testing.T) {
	f := newFactor(t, totp.Config{})
	tests := []struct {
		name    string
		account string
		rand    bool
	}{
		{"empty account", "", true},
		{"colon in account", "alice:admin", true},
		{"no random source", "alice", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := factor.EnrollInput{Account: tt.account}
			if tt.rand {
				in.Rand = rand.NewChaCha8([32]byte{})
			}
			e, err := f.Enroll(context.Background(), in)
			if !errors.Is(err, mfa.ErrInvalidInput) {
				t.Fatalf("Enroll error = %v, want one wrapping mfa.ErrInvalidInput", err)
			}
			if e.Secret != nil || e.Show != nil {
				t.Errorf("Enroll returned material with an error: %+v", e)
			}
		})
	}
	t.Run("short random source", func(t *testing.T) {
		_, err := f.Enroll(context.Background(), factor.EnrollInput{Account: "alice", Rand: strings.NewReader("too short")})
		if err == nil {
			t.Fatal("Enroll succeeded on a random source that ran dry")
		}
	})
}

func TestQRCode(t *testing.T) {
	_, s := enroll(t, newFactor(t, totp.Config{Issuer: "Acme"}), "alice@example.com")
	b, err := s.QRCode(256)
	if err != nil {
		t.Fatalf("QRCode: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("png.Decode: %v", err)
	}
	if r := img.Bounds(); r.Dx() != 256 || r.Dy() != 256 {
		t.Errorf("image is %v, want 256x256", r)
	}
	for _, size := range []int{0, -1, 10, totp.MaxQRSize + 1} {
		if _, err := s.QRCode(size); !errors.Is(err, mfa.ErrInvalidInput) {
			t.Errorf("QRCode(%d) error = %v, want one wrapping mfa.ErrInvalidInput", size, err)
		}
	}
}

func TestSetupRedacted(t *testing.T) {
	_, s := enroll(t, newFactor(t, totp.Config{}), "alice")
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("enrolled", "setup", s)
	outputs := map[string]string{
		"%v":     fmt.Sprintf("%v", s),
		"%+v":    fmt.Sprintf("%+v", *s),
		"%#v":    fmt.Sprintf("%#v", s),
		"Sprint": fmt.Sprint(*s),
		"slog":   logged.String(),
	}
	for verb, out := range outputs {
		if strings.Contains(out, s.Secret) || strings.Contains(out, "otpauth") {
			t.Errorf("%s output reveals the seed: %s", verb, out)
		}
	}
}

func TestSkew(t *testing.T) {
	seed := seedSHA1
	now := time.Unix(1700000015, 0)
	at := func(steps int) string {
		return code(t, seed, now.Add(time.Duration(steps)*30*time.Second), otp.AlgorithmSHA1, 6, 30)
	}
	step := now.Unix() / 30
	tests := []struct {
		skew   int
		offset int
		ok     bool
	}{
		{0, 0, true}, {0, -1, true}, {0, 1, true}, {0, -2, false}, {0, 2, false}, // default ±1
		{totp.NoSkew, 0, true}, {totp.NoSkew, -1, false}, {totp.NoSkew, 1, false},
		{2, -2, true}, {2, 2, true}, {2, -3, false}, {2, 3, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("skew%d/%+d", tt.skew, tt.offset), func(t *testing.T) {
			f := newFactor(t, totp.Config{Skew: tt.skew})
			resp := at(tt.offset)
			m, err := verify(f, seed, 0, now, resp)
			if !tt.ok {
				if !errors.Is(err, mfa.ErrWrongCode) {
					t.Fatalf("Verify(code at %+d steps) error = %v, want mfa.ErrWrongCode", tt.offset, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify(code at %+d steps): %v", tt.offset, err)
			}
			if want := step + int64(tt.offset); m.Counter != want {
				t.Errorf("Match.Counter = %d, want %d", m.Counter, want)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	f := newFactor(t, totp.Config{})
	now := time.Unix(1700000015, 0)
	step := now.Unix() / 30
	resp := code(t, seedSHA1, now, otp.AlgorithmSHA1, 6, 30)
	prev := code(t, seedSHA1, now.Add(-30*time.Second), otp.AlgorithmSHA1, 6, 30)
	tests := []struct {
		name    string
		counter int64
		resp    string
		want    error
	}{
		{"fresh", 0, resp, nil},
		{"after previous step", step - 1, resp, nil},
		{"same step", step, resp, mfa.ErrReplayed},
		{"later step accepted", step + 1, resp, mfa.ErrReplayed},
		{"previous step after current", step, prev, mfa.ErrReplayed},
		{"wrong code stays wrong", step, "000000", mfa.ErrWrongCode},
	}
	if resp == "000000" || prev == "000000" || resp == prev {
		t.Fatal("test data collides; pick another time")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := verify(f, seedSHA1, tt.counter, now, tt.resp)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if m.Counter <= tt.counter {
					t.Errorf("Match.Counter = %d, not above %d", m.Counter, tt.counter)
				}
				// Committing the match makes the same code a replay.
				if _, err := verify(f, seedSHA1, m.Counter, now, tt.resp); !errors.Is(err, mfa.ErrReplayed) {
					t.Errorf("second Verify error = %v, want mfa.ErrReplayed", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMalformedResponses(t *testing.T) {
	now := time.Unix(1700000015, 0)
	right6 := code(t, seedSHA1, now, otp.AlgorithmSHA1, 6, 30)
	right8 := code(t, seedSHA1, now, otp.AlgorithmSHA1, 8, 30)
	tests := []struct {
		name, resp string
		digits     int
	}{
		{"empty", "", 6},
		{"5 digits", right6[:5], 6},
		{"7 digits", right6 + "0", 6},
		{"6 digits for 8", right8[:6], 8},
		{"letters", "abcdef", 6},
		{"fullwidth digits", "１２３４５６", 6},
		{"arabic-indic digits", "١٢٣٤٥٦", 6},
		{"leading space", " " + right6[1:], 6},
		{"trailing space", right6[:5] + " ", 6},
		{"padded right code", " " + right6, 6},
		{"right code and space", right6 + " ", 6},
		{"newline", right6[:5] + "\n", 6},
		{"NUL", right6[:5] + "\x00", 6},
		{"sign", "+" + right6[1:], 6},
		{"minus", "-12345", 6},
		{"slash", "12345/", 6},
		{"colon", "12345:", 6},
		{"invalid UTF-8", "12345\xff", 6},
		{"very long", strings.Repeat(right6, 100000), 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFactor(t, totp.Config{Digits: tt.digits})
			_, err := verify(f, seedSHA1, 0, now, tt.resp)
			if !errors.Is(err, mfa.ErrMalformedResponse) {
				t.Fatalf("Verify(%q) error = %v, want mfa.ErrMalformedResponse", tt.resp, err)
			}
		})
	}
}

// Data keeps the enrolment parameters: a later change of Config does not
// break existing apps, and corrupt Data fails closed.
func TestStoredParams(t *testing.T) {
	old := newFactor(t, totp.Config{Algorithm: totp.SHA256, Digits: 8, Period: 60 * time.Second})
	e, _ := enroll(t, old, "alice")
	changed := newFactor(t, totp.Config{})

	now := time.Unix(1700000015, 0)
	resp := code(t, e.Secret, now, otp.AlgorithmSHA256, 8, 60)
	in := factor.VerifyInput{Factor: store.Factor{Data: e.Data}, Secret: e.Secret, Response: resp, Now: now}
	m, err := changed.Verify(context.Background(), in)
	if err != nil {
		t.Fatalf("Verify with the enrolled parameters after a Config change: %v", err)
	}
	if m.Counter != now.Unix()/60 {
		t.Errorf("Match.Counter = %d, want step %d of a 60 s period", m.Counter, now.Unix()/60)
	}

	// No Data: the Factor's own Config applies.
	in = factor.VerifyInput{Secret: e.Secret, Response: code(t, e.Secret, now, otp.AlgorithmSHA1, 6, 30), Now: now}
	if _, err := changed.Verify(context.Background(), in); err != nil {
		t.Errorf("Verify without Data: %v", err)
	}

	corrupt := [][]byte{
		{0},
		{2, 0, 6, 30},
		{1, 3, 6, 30},
		{1, 0, 7, 30},
		{1, 0, 6, 0},
		{1, 0, 6, 121},
		{1, 0, 6, 30, 0},
	}
	for _, data := range corrupt {
		in := factor.VerifyInput{Factor: store.Factor{Data: data}, Secret: e.Secret, Response: resp, Now: now}
		if _, err := changed.Verify(context.Background(), in); !errors.Is(err, mfa.ErrSealed) {
			t.Errorf("Verify with Data %v: error = %v, want mfa.ErrSealed", data, err)
		}
	}
}

func TestVerifyFailsClosed(t *testing.T) {
	f := newFactor(t, totp.Config{})
	now := time.Unix(1700000015, 0)
	resp := code(t, seedSHA1, now, otp.AlgorithmSHA1, 6, 30)
	tests := []struct {
		name   string
		secret []byte
		now    time.Time
		want   error
	}{
		{"nil secret", nil, now, mfa.ErrSealed},
		{"empty secret", []byte{}, now, mfa.ErrSealed},
		{"clock before 1970", seedSHA1, time.Unix(-1, 0), mfa.ErrInvalidInput},
		{"zero time", seedSHA1, time.Time{}, mfa.ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := verify(f, tt.secret, -1, tt.now, resp)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
}

// Near the epoch the window reaches steps before 1970; they never match,
// whatever the counter.
func TestNoNegativeSteps(t *testing.T) {
	f := newFactor(t, totp.Config{})
	now := time.Unix(5, 0) // step 0; the window is -1..1
	prev := fmt.Sprintf("%06d", totp.HOTP(totp.SHA1, seedSHA1, ^uint64(0), 6))
	if prev == fmt.Sprintf("%06d", totp.HOTP(totp.SHA1, seedSHA1, 0, 6)) ||
		prev == fmt.Sprintf("%06d", totp.HOTP(totp.SHA1, seedSHA1, 1, 6)) {
		t.Fatal("test data collides; pick another seed")
	}
	if _, err := verify(f, seedSHA1, -10, now, prev); !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatalf("code of step -1: error = %v, want mfa.ErrWrongCode", err)
	}
}

// When two neighbouring steps share a code, Verify reports the later one,
// so the code is accepted once only (RFC 6238 §5.2), even while it stays
// the current code.
func TestSharedCodeAcceptedOnce(t *testing.T) {
	const s, shared = 56188870, "617002" // steps s and s+1 of the SHA-1 test seed
	f := newFactor(t, totp.Config{})
	for _, step := range []int64{s, s + 1} {
		if got := fmt.Sprintf("%06d", totp.HOTP(totp.SHA1, seedSHA1, uint64(step), 6)); got != shared {
			t.Fatalf("code of step %d = %s, want %s", step, got, shared)
		}
	}
	at := func(step int64) time.Time { return time.Unix(step*30+5, 0) }
	m, err := verify(f, seedSHA1, s-1, at(s), shared)
	if err != nil {
		t.Fatalf("Verify at step %d: %v", s, err)
	}
	if m.Counter != s+1 {
		t.Fatalf("Match.Counter = %d, want the later step %d", m.Counter, s+1)
	}
	for _, step := range []int64{s, s + 1} {
		if _, err := verify(f, seedSHA1, m.Counter, at(step), shared); !errors.Is(err, mfa.ErrReplayed) {
			t.Errorf("same code again at step %d: error = %v, want mfa.ErrReplayed", step, err)
		}
	}
	next := fmt.Sprintf("%06d", totp.HOTP(totp.SHA1, seedSHA1, s+2, 6))
	if _, err := verify(f, seedSHA1, m.Counter, at(s+2), next); err != nil {
		t.Errorf("next code at step %d: %v", s+2, err)
	}
}
