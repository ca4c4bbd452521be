package testkit_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa/internal/testkit"
)

func TestClock(t *testing.T) {
	c := testkit.NewClock(testkit.T0)
	if got := c.Now(); !got.Equal(testkit.T0) || got.Location() != time.UTC {
		t.Fatalf("Now = %v, want %v in UTC", got, testkit.T0)
	}
	if a, b := c.Now(), c.Now(); !a.Equal(b) {
		t.Fatal("the clock moved by itself")
	}
	c.Add(time.Minute)
	if got := c.Now().Sub(testkit.T0); got != time.Minute {
		t.Fatalf("after Add(1m): %v since T0", got)
	}
	if got := c.Step().Sub(testkit.T0); got != time.Minute+30*time.Second {
		t.Fatalf("after Step: %v since T0", got)
	}
	c.Set(testkit.T0)
	if !c.Now().Equal(testkit.T0) {
		t.Fatalf("after Set: %v", c.Now())
	}
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() { c.Add(time.Second) })
	}
	wg.Wait()
	if got := c.Now().Sub(testkit.T0); got != 64*time.Second {
		t.Fatalf("64 concurrent Add(1s): %v", got)
	}
}

func TestRand(t *testing.T) {
	read := func(seed byte) []byte {
		b := make([]byte, 64)
		if _, err := io.ReadFull(testkit.Rand(seed), b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(read(1), read(1)) {
		t.Error("one seed gave two streams")
	}
	if bytes.Equal(read(1), read(2)) {
		t.Error("two seeds gave one stream")
	}
}

func TestFlipChar(t *testing.T) {
	for _, s := range []string{"AAAA", "BBBB", "x.AAAA", "eyJ.e30.AA"} {
		for i := range len(s) - 1 {
			if s[i] == '.' {
				continue
			}
			got := testkit.FlipChar(s, i)
			if got == s || len(got) != len(s) || got[:i] != s[:i] || got[i+1:] != s[i+1:] {
				t.Errorf("FlipChar(%q, %d) = %q", s, i, got)
			}
		}
	}
	// The bytes a flipped unpadded base64url string encodes differ.
	raw := bytes.Repeat([]byte{0}, 64)
	enc := base64.RawURLEncoding.EncodeToString(raw)
	dec, err := base64.RawURLEncoding.DecodeString(testkit.FlipChar(enc, len(enc)-2))
	if err != nil || bytes.Equal(dec, raw) {
		t.Fatalf("decoded %x, %v", dec, err)
	}
}

func TestTOTPCodes(t *testing.T) {
	// RFC 6238 appendix B, SHA-1, truncated to 6 digits: 94287082 at 59 s.
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	if got := testkit.TOTPCode(t, secret, time.Unix(59, 0)); got != "287082" {
		t.Fatalf("TOTPCode = %s, want 287082", got)
	}
	for s := int64(0); s < 2000; s++ {
		at := time.Unix(s*30, 0)
		w := testkit.WrongTOTPCode(t, secret, at)
		for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
			if w == testkit.TOTPCode(t, secret, at.Add(d)) {
				t.Fatalf("WrongTOTPCode at step %d is right at %v", s, d)
			}
		}
	}
}
