package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/memstore"
)

// The REST API authorizer allows a valid access token at AAL2, denies a
// lower level, and answers "Unauthorized" to anything else.
func TestAuthorizer(t *testing.T) {
	ctx := context.Background()
	key, err := session.GenerateEd25519Key("s1", nil)
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := session.NewKeySet(key)
	h, _ := mfa.NewHasher(make([]byte, 32))
	m, err := session.New(session.Config{Issuer: "https://i", Audience: "https://a", Store: memstore.New(), Hasher: h, Keys: ks})
	if err != nil {
		t.Fatal(err)
	}
	token := func(aal mfa.AAL) string {
		tok, err := m.Start(ctx, "alice", &mfa.Result{UserID: "alice", FactorID: "f", Kind: mfa.KindTOTP, AMR: []string{"otp"}, AAL: aal, Time: time.Now(), Remaining: -1})
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	auth := authorizer(m, mfa.AAL2)
	arn := "arn:aws:execute-api:eu-west-2:111122223333:api/prod/GET/me"
	resp, err := auth(ctx, events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + token(mfa.AAL2), MethodArn: arn})
	if err != nil || resp.PrincipalID != "alice" || resp.PolicyDocument.Statement[0].Effect != "Allow" {
		t.Fatalf("AAL2 token: %+v, %v", resp, err)
	}
	resp, err = auth(ctx, events.APIGatewayCustomAuthorizerRequest{AuthorizationToken: "Bearer " + token(mfa.AAL1), MethodArn: arn})
	if err != nil || resp.PolicyDocument.Statement[0].Effect != "Deny" {
		t.Fatalf("AAL1 token: %+v, %v", resp, err)
	}
	for _, bad := range []events.APIGatewayCustomAuthorizerRequest{
		{MethodArn: arn},
		{AuthorizationToken: token(mfa.AAL2), MethodArn: arn},
		{AuthorizationToken: "Bearer x.y.z", MethodArn: arn},
		{AuthorizationToken: "Bearer " + token(mfa.AAL2)},
	} {
		if _, err := auth(ctx, bad); !errors.Is(err, errUnauthorized) || err.Error() != "Unauthorized" {
			t.Fatalf("%+v: %v, want Unauthorized", bad, err)
		}
	}
}
