package awskms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/mfakit/mfa"
)

// Client is the part of the KMS API the sealer uses; *kms.Client
// implements it. Decrypt must return an error, and no plaintext, when the
// ciphertext or its encryption context is not what was wrapped.
type Client interface {
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
	GenerateDataKeyWithoutPlaintext(ctx context.Context, in *kms.GenerateDataKeyWithoutPlaintextInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyWithoutPlaintextOutput, error)
}

// ErrUnwrap reports a data key that KMS did not unwrap. It wraps
// mfa.ErrSealed.
var ErrUnwrap = fmt.Errorf("%w: awskms: data key did not unwrap", mfa.ErrSealed)

// contextKey is the encryption context entry naming a data key.
const contextKey = "mfa:data-key"

// DataKey is one data key as stored: its ID and its bytes wrapped by KMS.
type DataKey struct {
	// ID names the key inside every ciphertext it seals and in the
	// encryption context it was wrapped with: 1 to 255 bytes.
	ID string
	// Wrapped is the CiphertextBlob KMS returned for it.
	Wrapped []byte
}

// Config configures a Sealer. Client and Keys are required.
type Config struct {
	// Client calls KMS. Required.
	Client Client
	// Keys are the data keys; the first seals, all open. Required.
	Keys []DataKey
	// KMSKeyID, when set (a key ID, ARN or alias), is the only KMS key
	// Decrypt may use. Default "": whichever key wrapped the data key.
	KMSKeyID string
	// TTL is how long unwrapped data keys are kept before they are
	// unwrapped again. Default 1 hour; at most 24 hours.
	TTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Sealer implements mfa.Sealer with data keys unwrapped by KMS. It is safe
// for concurrent use.
type Sealer struct {
	cfg Config

	mu      sync.Mutex
	ring    *mfa.Keyring
	expires time.Time
}

var _ mfa.Sealer = (*Sealer)(nil)

// New validates cfg and unwraps every data key, one Decrypt each. Errors
// wrap mfa.ErrConfig (a bad Config) or ErrUnwrap (KMS refused or could not
// be reached); nothing is returned half-working.
func New(ctx context.Context, cfg Config) (*Sealer, error) {
	if cfg.Client == nil {
		return nil, fmt.Errorf("%w: awskms: Client is required", mfa.ErrConfig)
	}
	if len(cfg.Keys) == 0 {
		return nil, fmt.Errorf("%w: awskms: at least one data key is required", mfa.ErrConfig)
	}
	seen := map[string]bool{}
	for _, k := range cfg.Keys {
		if k.ID == "" || len(k.ID) > 255 || len(k.Wrapped) == 0 || seen[k.ID] {
			return nil, fmt.Errorf("%w: awskms: data key %q: ID must be 1 to 255 bytes and unique, Wrapped not empty", mfa.ErrConfig, k.ID)
		}
		seen[k.ID] = true
	}
	if cfg.TTL == 0 {
		cfg.TTL = time.Hour
	}
	if cfg.TTL < 0 || cfg.TTL > 24*time.Hour {
		return nil, fmt.Errorf("%w: awskms: TTL must be at most 24 hours", mfa.ErrConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Keys = append([]DataKey(nil), cfg.Keys...)
	s := &Sealer{cfg: cfg}
	if _, err := s.keyring(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// keyring returns the unwrapped keys, unwrapping them again once TTL has
// passed. A failure leaves the sealer without keys until a later call
// succeeds.
func (s *Sealer) keyring(ctx context.Context) (*mfa.Keyring, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	if s.ring != nil && now.Before(s.expires) {
		return s.ring, nil
	}
	s.ring = nil
	keys := make([]mfa.Key, len(s.cfg.Keys))
	defer func() {
		for _, k := range keys {
			clear(k.Secret)
		}
	}()
	for i, dk := range s.cfg.Keys {
		secret, err := s.unwrap(ctx, dk)
		if err != nil {
			return nil, err
		}
		keys[i] = mfa.Key{ID: dk.ID, Secret: secret}
	}
	ring, err := mfa.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnwrap, err)
	}
	s.ring, s.expires = ring, now.Add(s.cfg.TTL)
	return ring, nil
}

func (s *Sealer) unwrap(ctx context.Context, dk DataKey) ([]byte, error) {
	in := &kms.DecryptInput{
		CiphertextBlob:    dk.Wrapped,
		EncryptionContext: map[string]string{contextKey: dk.ID},
	}
	if s.cfg.KMSKeyID != "" {
		in.KeyId = aws.String(s.cfg.KMSKeyID)
	}
	out, err := s.cfg.Client.Decrypt(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrUnwrap, dk.ID, err)
	}
	if len(out.Plaintext) != 32 {
		clear(out.Plaintext)
		return nil, fmt.Errorf("%w: %q: %d bytes, want 32", ErrUnwrap, dk.ID, len(out.Plaintext))
	}
	return out.Plaintext, nil
}

// Seal implements [mfa.Sealer] with the first data key.
func (s *Sealer) Seal(ctx context.Context, plaintext, ad []byte) ([]byte, error) {
	r, err := s.keyring(ctx)
	if err != nil {
		return nil, err
	}
	return r.Seal(ctx, plaintext, ad)
}

// Open implements [mfa.Sealer]; stale is true for a ciphertext sealed
// with a data key other than the first.
func (s *Sealer) Open(ctx context.Context, ciphertext, ad []byte) ([]byte, bool, error) {
	r, err := s.keyring(ctx)
	if err != nil {
		return nil, false, err
	}
	return r.Open(ctx, ciphertext, ad)
}

// NewDataKey asks KMS for a new data key wrapped under kmsKeyID (a key ID,
// ARN or alias), bound to id by the encryption context. The plaintext
// never leaves KMS here; New unwraps it where it is used.
func NewDataKey(ctx context.Context, c Client, kmsKeyID, id string) (DataKey, error) {
	if c == nil || kmsKeyID == "" || id == "" || len(id) > 255 || strings.ContainsAny(id, ":, \t\r\n") {
		return DataKey{}, fmt.Errorf("%w: awskms: a client, a KMS key and an ID of 1 to 255 bytes without ':', ',' or spaces are required", mfa.ErrConfig)
	}
	out, err := c.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{
		KeyId:             aws.String(kmsKeyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: map[string]string{contextKey: id},
	})
	if err != nil {
		return DataKey{}, fmt.Errorf("mfa: awskms: generate data key: %w", err)
	}
	if len(out.CiphertextBlob) == 0 {
		return DataKey{}, errors.New("mfa: awskms: generate data key: empty answer")
	}
	return DataKey{ID: id, Wrapped: out.CiphertextBlob}, nil
}
