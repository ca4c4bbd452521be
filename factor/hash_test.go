package factor_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"sync"
	"testing"

	"github.com/mfakit/mfa/factor"
)

// Sum is HMAC-SHA256 over the length-prefixed domain and parts, the same
// on every call and from every goroutine (it works on clones of one keyed
// state).
func TestHasherSum(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	h, err := factor.NewHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	want := func(domain string, parts ...[]byte) [32]byte {
		m := hmac.New(sha256.New, key)
		for _, p := range append([][]byte{[]byte(domain)}, parts...) {
			m.Write(binary.BigEndian.AppendUint64(nil, uint64(len(p))))
			m.Write(p)
		}
		var out [32]byte
		m.Sum(out[:0])
		return out
	}
	if got := h.Sum("d", []byte("a"), []byte("bc")); got != want("d", []byte("a"), []byte("bc")) {
		t.Fatal("Sum differs from HMAC-SHA256 of the documented encoding")
	}
	if h.Sum("d", []byte("ab"), []byte("c")) == h.Sum("d", []byte("a"), []byte("bc")) {
		t.Fatal("moving a byte between parts gives the same sum")
	}
	if h.Sum("d1", []byte("x")) == h.Sum("d", []byte("1x")) {
		t.Fatal("moving a byte from the domain into a part gives the same sum")
	}
	other, _ := factor.NewHasher(bytes.Repeat([]byte{2}, 32))
	if other.Sum("d", []byte("a")) == h.Sum("d", []byte("a")) {
		t.Fatal("two keys give the same sum")
	}
	first := h.Sum("d", []byte("a"))
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if h.Sum("d", []byte("a")) != first {
					t.Error("Sum changed between calls")
					return
				}
			}
		}()
	}
	wg.Wait()
	if _, err := factor.NewHasher(make([]byte, 31)); !errors.Is(err, factor.ErrConfig) {
		t.Fatalf("31-byte key: %v", err)
	}
}

func BenchmarkHasherSum(b *testing.B) {
	h, _ := factor.NewHasher(bytes.Repeat([]byte{1}, 32))
	salt, code := make([]byte, 16), make([]byte, 13)
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Sum("mfa/backupcodes/v1", salt, code)
	}
}
