package store

import (
	"context"
	"encoding/base64"
	"encoding/binary"
)

// Resealable is implemented by backends that can walk every stored factor
// and replace one factor's sealed secret in place, which is what a bulk
// re-seal needs (mfa.Verifier.Reseal) to retire an old sealing key without
// waiting for dormant users to sign in. It is optional: storetest checks it
// when a backend implements it.
type Resealable interface {
	// ScanFactors returns a page of about limit factors (at least one
	// unless the walk is over) and the cursor of the next page; the empty
	// cursor starts the walk and an empty next ends it. Every factor that
	// exists for the whole walk is returned at least once, whatever is
	// written meanwhile; a factor may be returned twice. The cursor is
	// printable text, so a walk stopped part way can be resumed by another
	// process; a cursor this backend did not make wraps ErrInvalid.
	ScanFactors(ctx context.Context, cursor string, limit int) (page []Factor, next string, err error)
	// SwapSecret atomically sets the Secret of the factor ref to new if
	// and only if it is byte for byte old, changing nothing else. It wraps
	// ErrNotFound when there is no such factor and ErrConflict when its
	// secret is not old (it was re-sealed or replaced meanwhile).
	SwapSecret(ctx context.Context, ref FactorRef, old, new []byte) error
}

// RefCursor encodes a factor as a scan cursor, for backends that walk
// factors in (UserID, ID) order: each field length-prefixed, in unpadded
// URL-safe base64.
func RefCursor(r FactorRef) string {
	b := binary.AppendUvarint(nil, uint64(len(r.UserID)))
	b = append(b, r.UserID...)
	b = binary.AppendUvarint(b, uint64(len(r.ID)))
	b = append(b, r.ID...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseRefCursor decodes a cursor made by RefCursor; the empty cursor is
// the zero FactorRef. Anything else wraps ErrInvalid.
func ParseRefCursor(c string) (FactorRef, error) {
	if c == "" {
		return FactorRef{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(c) > 4096 {
		return FactorRef{}, ErrInvalid
	}
	var parts [2]string
	for i := range parts {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return FactorRef{}, ErrInvalid
		}
		parts[i], b = string(b[k:k+int(n)]), b[k+int(n):]
	}
	if len(b) != 0 || parts[0] == "" {
		return FactorRef{}, ErrInvalid
	}
	return FactorRef{UserID: parts[0], ID: parts[1]}, nil
}
