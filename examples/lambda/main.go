// Command lambda is the second-factor sign-in and enrolment of mfa as one
// AWS Lambda function behind an API Gateway HTTP API (payload format 2.0),
// and, with MFA_HANDLER=authorizer, a Lambda authorizer for REST APIs.
// Build it for the provided.al2023 runtime:
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./examples/lambda
//
// Its configuration is the environment: MFA_STORE_URL (postgres:// through
// RDS Proxy, or redis://), MFA_STORE_PREFIX, MFA_SEAL_KEYS or
// MFA_KMS_DATA_KEYS (with MFA_KMS_KEY_ID), MFA_HASH_KEYS,
// MFA_SIGNING_KEYS, MFA_ISSUER, MFA_AUDIENCE. template.yaml deploys it;
// docs/deploy-lambda.md is the guide. Migrations are a deploy step
// (`mfa migrate`), never run here.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mfakit/mfa"
)

func main() {
	ctx := context.Background()
	a, err := newApp(ctx, osEnv)
	if err != nil {
		initError(err)
	}
	if osEnv("MFA_HANDLER") == "authorizer" {
		lambda.Start(authorizer(a.m, mfa.AAL2))
		return
	}
	h := a.routes()
	lambda.Start(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return serve(ctx, h, ev), nil
	})
}

// initError reports a failed init to the Runtime API, so the invocation
// fails with this message rather than a bare exit, and exits: the function
// never serves half-configured.
func initError(err error) {
	log.Printf("init: %v", err)
	if api := os.Getenv("AWS_LAMBDA_RUNTIME_API"); api != "" {
		body, _ := json.Marshal(map[string]any{"errorMessage": err.Error(), "errorType": "InitError"})
		req, rerr := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s/2018-06-01/runtime/init/error", api), bytes.NewReader(body))
		if rerr == nil {
			req.Header.Set("Lambda-Runtime-Function-Error-Type", "InitError")
			if resp, rerr := http.DefaultClient.Do(req); rerr == nil {
				resp.Body.Close()
			}
		}
	}
	os.Exit(1)
}
