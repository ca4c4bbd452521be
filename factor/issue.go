package factor

import (
	"context"
	"time"
)

// IssueCapper is implemented by [Challenger] kinds whose challenges cost
// per destination (a code sent by email or SMS, a push to one device):
// the Verifier's own issuance caps count per user, per client IP and in
// all, but only the factor can name the destination, its country or its
// device, as only the factor reads its opened secret.
//
// IssueCaps returns the extra caps one challenge for in.Factor counts
// against. The Verifier counts them atomically in the store, after the
// factor is loaded and before Challenge is called (so before anything is
// sent); when any is reached it refuses the challenge with a
// RateLimitError and Challenge is not called. At enrolment of a kind
// whose confirmation is a challenge ([Enrolled.ConfirmByChallenge]) the
// same caps apply to the code sent to the new destination. It must not
// send, and it returns an error wrapping [ErrSealed] when the secret is
// not what the factor stored.
type IssueCapper interface {
	IssueCaps(ctx context.Context, in ChallengeInput) ([]IssueCap, error)
}

// IssueCap is one extra cap on issuing challenges.
type IssueCap struct {
	// Key names what is counted, such as "dest/" and a keyed hash of the
	// destination, or "cc/44" for a country calling code. The Verifier
	// keeps it apart per kind; it must hold no plaintext personal data.
	Key string
	// Max is the most challenges admitted per Window. Max 1 is a
	// cool-down: after one challenge, none until Window has passed since
	// it (a sliding window). A larger Max counts in fixed windows aligned
	// to the Unix epoch, like the Verifier's own caps. Max 0 or below
	// turns the cap off.
	Max    int
	Window time.Duration
}
