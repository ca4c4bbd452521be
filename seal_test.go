package mfa_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/mfakit/mfa"
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

func FuzzKeyringOpen(f *testing.F) {
	kr, _ := mfa.NewKeyring(testKey("k", 1))
	ct, _ := kr.Seal(context.Background(), []byte("seed"), []byte("ad"))
	f.Add(ct)
	f.Add([]byte{1, 1, 'k'})
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, _, err := kr.Open(context.Background(), b, []byte("ad"))
		if err == nil && !bytes.Equal(b, ct) {
			t.Fatalf("forged ciphertext opened: %q", pt)
		}
	})
}
