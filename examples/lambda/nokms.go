//go:build !kms

package main

import (
	"context"
	"errors"

	"github.com/mfakit/mfa"
)

// kmsSealer refuses: this build leaves the AWS SDK out (it costs the cold
// start about 2 ms); build with -tags kms to use MFA_KMS_DATA_KEYS.
func kmsSealer(context.Context, func(string) string) (mfa.Sealer, error) {
	return nil, errors.New("MFA_KMS_DATA_KEYS is set but this build has no KMS sealer: build with -tags kms")
}
