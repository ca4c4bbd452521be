package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/sealer/awskms"
)

// With the KMS sealer (-tags kms) against local-kms, behind a proxy that
// counts requests: the function calls KMS once per data key at init and
// never while it enrols and verifies.
func TestKMSCallsInTheFunction(t *testing.T) {
	endpoint := os.Getenv("MFA_TEST_KMS_ENDPOINT")
	if endpoint == "" {
		t.Skip("set MFA_TEST_KMS_ENDPOINT to run the function with the KMS sealer against local-kms")
	}
	st, ok := stores(t)["postgres"]
	tags := []string{"kms"}
	if !ok {
		st, tags = stores(t)["redis"], []string{"kms", "redis"}
	}
	ctx := context.Background()
	c := kms.New(kms.Options{Region: "eu-west-2", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		})})
	key, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("MFA_TEST_KMS_ENDPOINT does not answer: %v", err)
	}
	dk, err := awskms.NewDataKey(ctx, c, *key.KeyMetadata.Arn, "d1")
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(endpoint)
	var calls atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	defer counting.Close()

	env := functionEnv(t, st[0], st[1])
	delete(env, "MFA_SEAL_KEYS")
	env["MFA_KMS_DATA_KEYS"], env["MFA_KMS_KEY_ID"], env["MFA_KMS_ENDPOINT"] = dk.String(), *key.KeyMetadata.Arn, counting.URL
	env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = "test", "test"
	f := startFn(t, newRuntimeAPI(t), binary(t, ".", tags...), env)
	f.initTime(t)
	if n := calls.Load(); n != 1 {
		t.Fatalf("init made %d KMS calls, want 1 (one data key)", n)
	}
	p := call(t, f, httpEvent("POST", "/signin", "", map[string]string{"user": "alice", "password": "wonderland"}), http.StatusOK)
	pending := p["pending_token"].(string)
	en := call(t, f, httpEvent("POST", "/totp/begin", pending, nil), http.StatusOK)
	call(t, f, httpEvent("POST", "/totp/confirm", pending, map[string]string{
		"factor_id": en["factor_id"].(string), "code": testkit.TOTPCode(t, en["secret"].(string), time.Now())}), http.StatusOK)
	if n := calls.Load() - 1; n != 0 {
		t.Fatalf("enrolment and verification made %d KMS calls, want 0", n)
	}
}
