package awskms_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/mfakit/mfa/sealer/awskms"
)

// envKMS names the local-kms endpoint the integration tests use.
const envKMS = "MFA_TEST_KMS_ENDPOINT" // e.g. http://127.0.0.1:4599

// client returns a KMS client for endpoint with dummy credentials and no
// retries, so an unreachable endpoint fails at once.
func client(endpoint string) *kms.Client {
	return kms.New(kms.Options{
		Region:       "eu-west-2",
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}),
		RetryMaxAttempts: 1,
	})
}

// localKMS returns a client of the local-kms server named by envKMS,
// skipping when it is unset and failing when it does not answer.
func localKMS(t *testing.T) *kms.Client {
	t.Helper()
	endpoint := os.Getenv(envKMS)
	if endpoint == "" {
		t.Skipf("set %s to run the KMS tests against local-kms", envKMS)
	}
	c := client(endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
		t.Fatalf("%s=%s does not answer: %v", envKMS, endpoint, err)
	}
	return c
}

// newKMSKey creates a symmetric KMS key and returns its ARN.
func newKMSKey(t *testing.T, c *kms.Client) string {
	t.Helper()
	out, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String("mfa test")})
	if err != nil {
		t.Fatal(err)
	}
	return *out.KeyMetadata.Arn
}

// counted counts the KMS calls made through it.
type counted struct {
	awskms.Client
	calls atomic.Int64
}

func (c *counted) Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	c.calls.Add(1)
	return c.Client.Decrypt(ctx, in, opts...)
}

func (c *counted) GenerateDataKeyWithoutPlaintext(ctx context.Context, in *kms.GenerateDataKeyWithoutPlaintextInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyWithoutPlaintextOutput, error) {
	c.calls.Add(1)
	return c.Client.GenerateDataKeyWithoutPlaintext(ctx, in, opts...)
}

// closedPort returns the address of a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return fmt.Sprintf("http://%s", addr)
}
