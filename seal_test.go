package mfa_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mfakit/mfa"
	"golang.org/x/crypto/chacha20poly1305"
)

func testKey(id string, b byte) mfa.Key {
	return mfa.Key{ID: id, Secret: bytes.Repeat([]byte{b}, 32)}
}

func TestKeyringSealOpen(t *testing.T) {
	ctx := context.Background()
	kr, err := mfa.NewKeyring(testKey("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	seed := []byte("12345678901234567890")
	ad := []byte("user-a/factor-1")
	ct, err := kr.Seal(ctx, seed, ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, seed) {
		t.Fatal("ciphertext contains the plaintext")
	}
	pt, stale, err := kr.Open(ctx, ct, ad)
	if err != nil || stale || !bytes.Equal(pt, seed) {
		t.Fatalf("Open = %q, %v, %v", pt, stale, err)
	}
	ct2, _ := kr.Seal(ctx, seed, ad)
	if bytes.Equal(ct, ct2) {
		t.Fatal("two seals of one plaintext are equal: nonce reused")
	}

	other, _ := mfa.NewKeyring(testKey("k1", 2)) // same ID, other secret
	flipped := append([]byte(nil), ct...)
	flipped[len(flipped)-1] ^= 1
	cases := []struct {
		name string
		kr   *mfa.Keyring
		ct   []byte
		ad   []byte
	}{
		{"other user or factor", kr, ct, []byte("user-b/factor-1")},
		{"wrong key", other, ct, ad},
		{"flipped tag bit", kr, flipped, ad},
		{"truncated", kr, ct[:10], ad},
		{"empty", kr, nil, ad},
		{"unknown version", kr, append([]byte{9}, ct[1:]...), ad},
		{"unknown key id", kr, append([]byte{1, 2, 'z', 'z'}, ct[4:]...), ad},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pt, _, err := c.kr.Open(ctx, c.ct, c.ad)
			if err == nil || pt != nil {
				t.Fatalf("Open succeeded: %q", pt)
			}
		})
	}
}

func TestKeyringRotation(t *testing.T) {
	ctx := context.Background()
	old, _ := mfa.NewKeyring(testKey("2025", 1))
	ad := []byte("ad")
	ct, _ := old.Seal(ctx, []byte("seed"), ad)

	rotated, err := mfa.NewKeyring(testKey("2026", 2), testKey("2025", 1))
	if err != nil {
		t.Fatal(err)
	}
	pt, stale, err := rotated.Open(ctx, ct, ad)
	if err != nil || !stale || string(pt) != "seed" {
		t.Fatalf("old ciphertext: %q stale=%v err=%v", pt, stale, err)
	}
	ct2, _ := rotated.Seal(ctx, pt, ad)
	if _, stale, err := rotated.Open(ctx, ct2, ad); err != nil || stale {
		t.Fatalf("new ciphertext: stale=%v err=%v", stale, err)
	}
	if _, _, err := old.Open(ctx, ct2, ad); err == nil {
		t.Fatal("old keyring opened a ciphertext sealed with the new key")
	}
}

func TestNewKeyringRejects(t *testing.T) {
	cases := map[string][]mfa.Key{
		"short secret": {{ID: "a", Secret: make([]byte, 16)}},
		"empty id":     {{ID: "", Secret: make([]byte, 32)}},
		"long id":      {{ID: string(make([]byte, 256)), Secret: make([]byte, 32)}},
		"duplicate id": {testKey("a", 1), testKey("a", 2)},
	}
	for name, keys := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := mfa.NewKeyring(keys[0], keys[1:]...); !errors.Is(err, mfa.ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
}

// sealFixed seals plaintext as Keyring.Seal does, by the layout documented
// on Keyring (version, key ID length, key ID, nonce, sealed data and tag),
// but with a fixed nonce, so every process builds the same bytes.
func sealFixed(t testing.TB, key mfa.Key, nonceByte byte, plaintext, ad []byte) []byte {
	t.Helper()
	a, err := chacha20poly1305.NewX(key.Secret)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte{1, byte(len(key.ID))}, key.ID...)
	nonce := bytes.Repeat([]byte{nonceByte}, a.NonceSize())
	return a.Seal(append(out, nonce...), nonce, plaintext, ad)
}

// FuzzKeyringOpen: Open never panics, never changes its input, returns no
// plaintext with an error, and succeeds only on the exact ciphertexts
// sealed for that associated data, with their plaintext and staleness.
//
// The known ciphertexts are built with fixed nonces: each fuzzing worker
// is a separate process that runs this setup again, so a ciphertext made
// here by Keyring.Seal (random nonce) would differ in every process, and
// the worker would see the coordinator's seed open and call it a forgery.
func FuzzKeyringOpen(f *testing.F) {
	ctx := context.Background()
	older, primary := testKey("k", 1), testKey("k2", 2)
	kr, err := mfa.NewKeyring(primary, older)
	if err != nil {
		f.Fatal(err)
	}
	ad, otherAD := []byte("ad"), []byte("ad2")
	type sealed struct {
		ct, pt []byte
		stale  bool
	}
	known := []sealed{
		{sealFixed(f, older, 1, []byte("seed"), ad), []byte("seed"), true},
		{sealFixed(f, primary, 2, []byte("other seed"), ad), []byte("other seed"), false},
		{sealFixed(f, primary, 3, nil, ad), []byte{}, false},
	}
	for _, k := range known {
		// The layout above is the one Open reads.
		if pt, stale, err := kr.Open(ctx, k.ct, ad); err != nil || !bytes.Equal(pt, k.pt) || stale != k.stale {
			f.Fatalf("Open(known %x) = %q, %v, %v", k.ct, pt, stale, err)
		}
		f.Add(k.ct)
		f.Add(k.ct[:len(k.ct)-1])
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{1, 1, 'k'})
	f.Add([]byte{1, 200, 'k'})
	f.Add(append([]byte{2}, known[0].ct[1:]...))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		pt, stale, err := kr.Open(ctx, b, ad)
		if !bytes.Equal(b, in) {
			t.Fatal("Open changed its input")
		}
		if err != nil {
			if pt != nil || stale {
				t.Fatalf("Open failed (%v) but returned %q, stale=%v", err, pt, stale)
			}
		} else {
			i := slices.IndexFunc(known, func(k sealed) bool { return bytes.Equal(k.ct, b) })
			if i < 0 {
				t.Fatalf("forged ciphertext opened: %x -> %q", b, pt)
			}
			if !bytes.Equal(pt, known[i].pt) || stale != known[i].stale {
				t.Fatalf("Open(known %d) = %q, stale=%v", i, pt, stale)
			}
		}
		if pt, _, err := kr.Open(ctx, b, otherAD); err == nil {
			t.Fatalf("opened under another AD: %x -> %q", b, pt)
		}
	})
}
