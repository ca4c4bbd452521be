//go:build kms

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/sealer/awskms"
)

// kmsSealer is the KMS sealer of MFA_KMS_DATA_KEYS: its data keys are
// unwrapped here, at init, once; a failure is the function's init error.
func kmsSealer(ctx context.Context, getenv func(string) string) (mfa.Sealer, error) {
	keys, err := awskms.ParseDataKeys(getenv("MFA_KMS_DATA_KEYS"))
	if err != nil {
		return nil, fmt.Errorf("MFA_KMS_DATA_KEYS: %w", err)
	}
	opts := kms.Options{
		Region: getenv("AWS_REGION"),
		// The execution role's credentials, which Lambda puts in the
		// environment.
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: getenv("AWS_SESSION_TOKEN")}, nil
		}),
		RetryMaxAttempts: 2,
	}
	if ep := getenv("MFA_KMS_ENDPOINT"); ep != "" { // local-kms in tests
		opts.BaseEndpoint = aws.String(ep)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return awskms.New(ctx, awskms.Config{Client: kms.New(opts), Keys: keys, KMSKeyID: getenv("MFA_KMS_KEY_ID")})
}
