// Package policy decides, per request, what a route needs beyond a valid
// access token: from the route, the user's roles, the client's place
// (networks, countries) and the time. A [Policy] is a session.Decider:
//
//	pol, err := policy.New(policy.Config{
//		Rules: []policy.Rule{{
//			Pattern:   "/admin/",
//			Roles:     []string{"admin"},
//			Methods:   policy.PhishingResistant, // a security key or passkey
//			MaxAge:    5 * time.Minute,
//			Countries: []string{"FR", "DE"},
//		}, {
//			Pattern: "/", // everything else: a valid token
//		}},
//		Roles:    func(r *http.Request, c *session.AccessClaims) ([]string, error) { return app.Roles(r.Context(), c.Subject) },
//		Locator:  locator,  // geo/maxmind, say
//		ClientIP: clientIP, // package clientip
//	})
//	mux.Handle("/", m.Require(session.Policy(pol))(handler))
//
// Rules are tried in order and the first whose pattern matches decides
// (as in a firewall, not as a ServeMux picks the most specific pattern):
// put narrow rules first. Within a rule every condition that is set must
// hold; a list (roles, networks, countries, windows, methods) is met by
// any one of its values, and a deny list wins over an allow list.
//
// What the rule asks of the token (MinAAL, MaxAge, Methods) is a
// session.Requirement: a token that falls short is asked to step up (RFC
// 9470). What no step-up can change (role, network, country, time) is a
// refusal, answered 403 by the session middleware.
//
// # Security
//
//   - Fail closed. A request no rule matches is refused ([ErrNoRule]). A
//     rule that restricts countries refuses an address whose country is
//     unknown (private, loopback, unlisted), deny list or allow list. A
//     client address that cannot be read refuses a rule that needs it.
//     An error from Config.Roles or the Locator refuses the request as an
//     outage (503: a retry may succeed), never admits it.
//   - The client address comes from a clientip.Source: the remote
//     address, or a header only from the proxies it trusts; a header a
//     client set is never read as its address.
//   - Refusals carry a fixed description to the client; which condition
//     failed (and the rule's pattern) is in the error only, for logs.
//   - Time is the server's (Config.Now), in each window's named zone; the
//     token's auth_time is judged by the session middleware, which treats
//     one in the future as too old.
//   - Methods reads the token's auth_amr: the methods of the verification
//     at auth_time alone (the sign-in or the latest step-up), not the
//     session-wide amr. With MaxAge, "used a security key in the last 5
//     minutes" is met only when that latest verification used the key; a
//     key at sign-in and a TOTP step-up since does not meet it.
//   - Patterns match as http.ServeMux matches: on the cleaned path, with
//     escapes decoded, so "/x/../admin/" and "/%61dmin/" take the
//     "/admin/" rule. An application router with other rules (case
//     folding, trailing-slash leniency) should be matched by patterns
//     that cover its routes, or wrap each route with its own Require.
package policy
