package mfa

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
)

// Sealer encrypts secrets at rest. The associated data binds a ciphertext
// to the user and factor it belongs to: a ciphertext copied to another row
// does not open. Implement it to keep keys in a KMS or HSM; [Keyring] is the
// built-in one.
type Sealer interface {
	// Seal encrypts plaintext bound to ad with the current key.
	Seal(ctx context.Context, plaintext, ad []byte) ([]byte, error)
	// Open decrypts a ciphertext made by Seal with the same ad. stale is
	// true when it was sealed with a key other than the current one, so
	// the caller re-seals it. Any failure returns an error (the Verifier
	// wraps it in ErrSealed) and no plaintext.
	Open(ctx context.Context, ciphertext, ad []byte) (plaintext []byte, stale bool, err error)
}

// Key is one sealing key of a [Keyring].
type Key struct {
	// ID names the key inside every ciphertext it seals: 1 to 255 bytes,
	// unique in the keyring. It is not secret.
	ID string
	// Secret is 32 random bytes.
	Secret []byte
}

// Keyring seals with XChaCha20-Poly1305 under its primary key and opens with
// any of its keys, so keys rotate without a migration: add a new primary,
// keep the old ones until every secret has been re-sealed (the Verifier
// re-seals a secret opened with an old key).
//
// Ciphertext layout: version (1), key ID length (1), key ID, nonce (24),
// sealed data and tag. The 192-bit random nonce makes collisions negligible
// under any realistic number of seals per key.
type Keyring struct {
	primary     string
	primaryAEAD cipher.AEAD // aeads[primary]
	aeads       map[string]cipher.AEAD
	rand        io.Reader
}

const sealVersion = 1

// NewKeyring returns a keyring that seals with primary and opens with
// primary and older.
func NewKeyring(primary Key, older ...Key) (*Keyring, error) {
	k := &Keyring{primary: primary.ID, aeads: map[string]cipher.AEAD{}, rand: rand.Reader}
	for _, key := range append([]Key{primary}, older...) {
		if len(key.ID) == 0 || len(key.ID) > 255 {
			return nil, fmt.Errorf("%w: key ID must be 1 to 255 bytes", ErrConfig)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate key ID %q", ErrConfig, key.ID)
		}
		if len(key.Secret) != chacha20poly1305.KeySize {
			return nil, fmt.Errorf("%w: key %q is %d bytes, want %d", ErrConfig, key.ID, len(key.Secret), chacha20poly1305.KeySize)
		}
		a, err := chacha20poly1305.NewX(key.Secret)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		k.aeads[key.ID] = a
	}
	k.primaryAEAD = k.aeads[primary.ID]
	return k, nil
}

// Seal implements [Sealer].
func (k *Keyring) Seal(_ context.Context, plaintext, ad []byte) ([]byte, error) {
	a := k.primaryAEAD
	head := 2 + len(k.primary)
	out := make([]byte, head+a.NonceSize(), head+a.NonceSize()+len(plaintext)+a.Overhead())
	out[0] = sealVersion
	out[1] = byte(len(k.primary))
	copy(out[2:], k.primary)
	nonce := out[head:]
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return nil, fmt.Errorf("mfa: seal: nonce: %w", err)
	}
	return a.Seal(out, nonce, plaintext, ad), nil
}

var errSealFormat = errors.New("mfa: sealed data malformed")

// Open implements [Sealer].
func (k *Keyring) Open(_ context.Context, ciphertext, ad []byte) ([]byte, bool, error) {
	a, nonce, sealed, stale, err := k.parse(ciphertext)
	if err != nil {
		return nil, false, err
	}
	pt, err := a.Open(nil, nonce, sealed, ad)
	if err != nil {
		return nil, false, errNoOpen
	}
	return pt, stale, nil
}

var errNoOpen = errors.New("mfa: sealed data does not open")

// parse splits a ciphertext into the AEAD of its key, its nonce and its
// sealed data; stale reports a key other than the primary.
func (k *Keyring) parse(ciphertext []byte) (a cipher.AEAD, nonce, sealed []byte, stale bool, err error) {
	if len(ciphertext) < 2 || ciphertext[0] != sealVersion {
		return nil, nil, nil, false, errSealFormat
	}
	n := int(ciphertext[1])
	if len(ciphertext) < 2+n {
		return nil, nil, nil, false, errSealFormat
	}
	id := ciphertext[2 : 2+n]
	if string(id) == k.primary {
		a = k.primaryAEAD // the usual case, without a map lookup
	} else {
		var ok bool
		if a, ok = k.aeads[string(id)]; !ok {
			return nil, nil, nil, false, errors.New("mfa: sealed with an unknown key")
		}
		stale = true
	}
	rest := ciphertext[2+n:]
	if len(rest) < a.NonceSize()+a.Overhead() {
		return nil, nil, nil, false, errSealFormat
	}
	return a, rest[:a.NonceSize()], rest[a.NonceSize():], stale, nil
}

// openFactor is Open of a factor's secret with its [sealAD], in one
// allocation: the associated data, then the plaintext, which is returned
// with its capacity cut to its length.
func (k *Keyring) openFactor(ciphertext []byte, userID, factorID string) ([]byte, bool, error) {
	a, nonce, sealed, stale, err := k.parse(ciphertext)
	if err != nil {
		return nil, false, err
	}
	n := sealADLen(userID, factorID)
	buf := make([]byte, 0, n+len(sealed)-a.Overhead())
	ad := appendSealAD(buf, userID, factorID)
	pt, err := a.Open(buf[n:n], nonce, sealed, ad)
	if err != nil {
		return nil, false, errNoOpen
	}
	return pt[:len(pt):len(pt)], stale, nil
}

// sealAD is the associated data binding a sealed secret to its user and
// factor, each length-prefixed.
func sealAD(userID, factorID string) []byte {
	return appendSealAD(make([]byte, 0, sealADLen(userID, factorID)), userID, factorID)
}

const sealLabel = "mfa/seal/v1"

// sealADLen is the length of sealAD's result.
func sealADLen(userID, factorID string) int {
	return len(sealLabel) + 16 + len(userID) + len(factorID)
}

// appendSealAD appends sealAD's result to b.
func appendSealAD(b []byte, userID, factorID string) []byte {
	b = append(b, sealLabel...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(userID)))
	b = append(b, userID...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(factorID)))
	b = append(b, factorID...)
	return b
}
