package awskms

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/mfakit/mfa"
)

// maxWrapped bounds one wrapped data key; KMS's are under 512 bytes.
const maxWrapped = 4096

// ParseDataKeys reads data keys from text, as kept in an environment
// variable or a secret: entries "ID:BASE64" (standard base64 of the
// wrapped key) separated by commas or white space, the sealing key first.
// Errors wrap mfa.ErrConfig and never quote the key material.
func ParseDataKeys(text string) ([]DataKey, error) {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: awskms: no data keys", mfa.ErrConfig)
	}
	keys := make([]DataKey, 0, len(fields))
	for i, f := range fields {
		id, b64, ok := strings.Cut(f, ":")
		if !ok || id == "" || len(id) > 255 || len(b64) > base64.StdEncoding.EncodedLen(maxWrapped) {
			return nil, fmt.Errorf("%w: awskms: data key %d: want ID:BASE64", mfa.ErrConfig, i+1)
		}
		wrapped, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(wrapped) == 0 {
			return nil, fmt.Errorf("%w: awskms: data key %q: not base64", mfa.ErrConfig, id)
		}
		keys = append(keys, DataKey{ID: id, Wrapped: wrapped})
	}
	return keys, nil
}

// String formats k as ParseDataKeys reads it. The wrapped bytes are not
// secret: only KMS can unwrap them.
func (k DataKey) String() string {
	return k.ID + ":" + base64.StdEncoding.EncodeToString(k.Wrapped)
}
