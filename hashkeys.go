package mfa

import (
	"fmt"

	"github.com/mfakit/mfa/factor"
)

// HashKey is one key of a rotating hash key ring (Config.HashKeys): an ID
// stored beside every hash it makes, and at least MinHashKeyLen random
// bytes.
type HashKey = factor.HashKey

// MaxHashKeyIDLen is the longest hash key ID accepted.
const MaxHashKeyIDLen = factor.MaxHashKeyIDLen

// NewHasherRing returns a Hasher that hashes with primary and still checks
// hashes made with any of older. A key with the empty ID stands for the
// single key of a Hasher from NewHasher (Config.HashKey), whose hashes
// carry no ID.
func NewHasherRing(primary HashKey, older ...HashKey) (*Hasher, error) {
	return factor.NewHasherRing(primary, older...)
}

// hasherFor builds the Verifier's hasher from Config.HashKey or
// Config.HashKeys, exactly one of which is set.
func hasherFor(cfg Config) (*Hasher, error) {
	switch {
	case len(cfg.HashKeys) > 0 && cfg.HashKey != nil:
		return nil, fmt.Errorf("%w: set HashKey or HashKeys, not both", ErrConfig)
	case len(cfg.HashKeys) > 0:
		return NewHasherRing(cfg.HashKeys[0], cfg.HashKeys[1:]...)
	default:
		return NewHasher(cfg.HashKey)
	}
}
