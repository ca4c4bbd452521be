package factor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
)

// Hasher computes keyed hashes (HMAC-SHA256) of codes and tokens, so the
// store holds nothing an attacker with a copy of the database can test
// guesses against without the key. The key lives outside the database.
//
// A Hasher holds one key or, built by [NewHasherRing], several: Sum and
// Stamp use the primary key; [Hasher.Match] and [Hasher.StampLike] use
// whichever key a stored hash names, so the key rotates (see hashring.go).
type Hasher struct {
	key []byte
	// keyed is an HMAC with the key already absorbed; each Sum works on a
	// clone of it, so the key's blocks are hashed once, not per call.
	keyed hash.Cloner
	// id is the primary key's ID ("" for a Hasher from NewHasher); ring
	// holds every key by ID, the primary included.
	id   string
	ring map[string]*Hasher
}

// MinHashKeyLen is the shortest key NewHasher accepts (256 bits).
const MinHashKeyLen = 32

// NewHasher returns a Hasher with a copy of key, which must be at least
// MinHashKeyLen bytes.
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < MinHashKeyLen {
		return nil, fmt.Errorf("%w: hash key is %d bytes, want at least %d", ErrConfig, len(key), MinHashKeyLen)
	}
	h := &Hasher{key: append([]byte(nil), key...)}
	h.keyed, _ = hmac.New(sha256.New, h.key).(hash.Cloner)
	h.ring = map[string]*Hasher{"": h}
	return h, nil
}

// Sum returns HMAC-SHA256 over a domain label and parts, each
// length-prefixed so no two different inputs share an encoding.
func (h *Hasher) Sum(domain string, parts ...[]byte) [32]byte {
	c := h.mac()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(domain)))
	c.Write(n[:])
	io.WriteString(c, domain)
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		c.Write(n[:])
		c.Write(p)
	}
	var out [32]byte
	c.Sum(out[:0])
	return out
}

// mac returns an HMAC keyed with h's key: a clone of the pre-keyed one, or
// a new one where cloning is not available.
func (h *Hasher) mac() hash.Hash {
	if h.keyed != nil {
		if c, err := h.keyed.Clone(); err == nil {
			return c
		}
	}
	return hmac.New(sha256.New, h.key)
}
