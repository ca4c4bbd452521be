// Package testkit holds what the module's tests share: a clock that moves
// only when a test moves it, a deterministic random source, TOTP codes
// that are right, or wrong whatever the seed, and a software WebAuthn
// authenticator whose responses tests can bend into bad input.
//
// It is internal: the library's users inject their own clock and
// randomness through each Config.
package testkit

import (
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"
)

// T0 is the instant the tests' clocks start at unless they say otherwise:
// the first second of a TOTP step.
var T0 = time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)

// Clock is an injectable clock. It reads the same until a test calls Add or
// Set, so tests move time instead of sleeping. It is safe for concurrent
// use.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a clock that reads t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now returns the clock's time in UTC.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// Step moves the clock one 30-second TOTP period and returns the new time.
func (c *Clock) Step() time.Time { return time.Unix(0, c.ns.Add(int64(30*time.Second))).UTC() }

// Rand returns a deterministic random source, safe for concurrent use, so
// IDs and secrets repeat from run to run. Different seeds give different
// streams.
func Rand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return &lockedRand{r: rand.NewChaCha8(s)}
}

type lockedRand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func (l *lockedRand) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// FlipChar returns s with the character at i replaced by another base64url
// character. Every character of an unpadded base64url string but the last
// carries six whole bits, so for any other i the bytes it encodes always
// change. (Overwriting the last characters with fixed ones does not: they
// may already be those.)
func FlipChar(s string, i int) string {
	c := byte('A')
	if s[i] == c {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// TOTPCode returns the 6-digit SHA-1 TOTP code of secret (base32) at at,
// computed by pquerna/otp, independently of the code under test.
func TOTPCode(tb testing.TB, secret string, at time.Time) string {
	tb.Helper()
	c, err := otptotp.GenerateCodeCustom(secret, at, otptotp.ValidateOpts{
		Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// WrongTOTPCode returns a 6-digit code that matches none of the steps a
// verifier with skew 1 accepts at at: the step and one on either side.
// A fixed "000000" would be right for a random seed about once in 333,333
// tries.
func WrongTOTPCode(tb testing.TB, secret string, at time.Time) string {
	tb.Helper()
	window := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		window[TOTPCode(tb, secret, at.Add(d))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !window[c] {
			return c
		}
	}
	tb.Fatal("testkit: no wrong code found") // unreachable: 3 codes cannot cover 4
	return ""
}
