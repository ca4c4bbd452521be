package main

// A Lambda authorizer for REST APIs (TOKEN type): it checks the access
// token in the Authorization header against the signing keys and answers
// an IAM policy for the method. It reads no store: an access token is
// checked offline, as any instance can. (An HTTP API needs no function for
// this: its native JWT authorizer reads the JWKS; see template.yaml.)

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// errUnauthorized is the exact error text API Gateway turns into a 401.
var errUnauthorized = errors.New("Unauthorized")

// authorizer returns the authorizer handler for m, requiring at least
// level min.
func authorizer(m *session.Manager, min mfa.AAL) func(context.Context, events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	return func(_ context.Context, ev events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		tok, ok := strings.CutPrefix(ev.AuthorizationToken, "Bearer ")
		if !ok || ev.MethodArn == "" || len(tok) > 8192 {
			return events.APIGatewayCustomAuthorizerResponse{}, errUnauthorized
		}
		c, err := m.VerifyAccess(tok)
		if err != nil {
			return events.APIGatewayCustomAuthorizerResponse{}, errUnauthorized
		}
		effect := "Allow"
		if c.AAL() < min {
			effect = "Deny"
		}
		return events.APIGatewayCustomAuthorizerResponse{
			PrincipalID: c.Subject,
			PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
				Version: "2012-10-17",
				Statement: []events.IAMPolicyStatement{{
					Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{ev.MethodArn},
				}},
			},
			Context: map[string]any{"acr": c.ACR, "amr": strings.Join(c.AMR, " "), "sid": c.SessionID},
		}, nil
	}
}
