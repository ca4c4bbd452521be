package factor

import (
	"crypto/subtle"
	"fmt"
)

// HashKey is one key of a Hasher ring built by [NewHasherRing].
type HashKey struct {
	// ID names the key inside every stored hash it makes: at most
	// MaxHashKeyIDLen bytes (so a stamp fits the 255 bytes stores keep
	// for a token hash), unique in the ring, not secret. The empty ID is the key of
	// hashes stored before key IDs existed (a Hasher from NewHasher): its
	// stamps are the bare 32-byte sums, as they always were.
	ID string
	// Secret is at least MinHashKeyLen random bytes.
	Secret []byte
}

// MaxHashKeyIDLen is the longest hash key ID accepted.
const MaxHashKeyIDLen = 64

// NewHasherRing returns a Hasher that hashes with primary and still checks
// hashes made with any of older, so the hash key rotates without
// invalidating stored codes and tokens: make the new key primary, keep the
// old ones until nothing stored names them (see the package doc of mfa).
func NewHasherRing(primary HashKey, older ...HashKey) (*Hasher, error) {
	var h *Hasher
	ring := map[string]*Hasher{}
	for i, k := range append([]HashKey{primary}, older...) {
		if len(k.ID) > MaxHashKeyIDLen {
			return nil, fmt.Errorf("%w: hash key ID longer than %d bytes", ErrConfig, MaxHashKeyIDLen)
		}
		if _, dup := ring[k.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate hash key ID %q", ErrConfig, k.ID)
		}
		one, err := NewHasher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("%w (hash key %q)", err, k.ID)
		}
		one.id = k.ID
		ring[k.ID] = one
		if i == 0 {
			h = one
		}
	}
	for _, one := range ring {
		one.ring = ring
	}
	return h, nil
}

// KeyID returns the ID of the key Sum and Stamp use.
func (h *Hasher) KeyID() string { return h.id }

// SumKey is Sum under the key named id, for a record that keeps its key ID
// beside its hashes. ok is false when the ring has no such key.
func (h *Hasher) SumKey(id, domain string, parts ...[]byte) (sum [32]byte, ok bool) {
	k, ok := h.ring[id]
	if !ok {
		return sum, false
	}
	return k.Sum(domain, parts...), true
}

// stampTag opens a stamp made under a non-empty key ID: the tag, the ID's
// length, the ID, then the 32-byte sum. A bare sum (the empty ID) is
// exactly 32 bytes and a tagged one at least 35, so the two never collide.
const stampTag = 'k'

// Stamp returns the keyed hash to store: Sum under the primary key,
// prefixed by the key's ID unless it is empty.
func (h *Hasher) Stamp(domain string, parts ...[]byte) []byte {
	return stamp(h.id, h.Sum(domain, parts...))
}

func stamp(id string, sum [32]byte) []byte {
	if id == "" {
		return sum[:]
	}
	out := make([]byte, 0, 2+len(id)+32)
	out = append(out, stampTag, byte(len(id)))
	out = append(out, id...)
	return append(out, sum[:]...)
}

// StampKeyID returns the key ID a stored stamp names, and false when the
// stamp is malformed.
func StampKeyID(stored []byte) (string, bool) {
	switch {
	case len(stored) == 32:
		return "", true
	case len(stored) < 35 || stored[0] != stampTag || int(stored[1]) != len(stored)-34 || stored[1] == 0:
		return "", false
	}
	return string(stored[2 : 2+int(stored[1])]), true
}

// StampLike returns the stamp of domain and parts under the key stored
// names, to compare with it or to hand to a store's compare-and-set; ok is
// false when stored is malformed or names a key the ring lacks.
func (h *Hasher) StampLike(stored []byte, domain string, parts ...[]byte) (out []byte, ok bool) {
	id, ok := StampKeyID(stored)
	if !ok {
		return nil, false
	}
	sum, ok := h.SumKey(id, domain, parts...)
	if !ok {
		return nil, false
	}
	return stamp(id, sum), true
}

// Match reports, in constant time for a given stored length, whether
// stored is the stamp of domain and parts under the key it names. A
// malformed stamp or an unknown key is no match.
func (h *Hasher) Match(stored []byte, domain string, parts ...[]byte) bool {
	s, ok := h.StampLike(stored, domain, parts...)
	return ok && subtle.ConstantTimeCompare(s, stored) == 1
}
