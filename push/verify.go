package push

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/mfakit/mfa/factor"
)

// Verify checks a device's answer (the Response, as [Factor.Answered]
// returned it) against the taken challenge and the paired device: the
// request ID, the device, the signature by the device's paired key, the
// expiry (server time), the decision and the number. Every answer costs a
// signature check before anything else is decided.
func (f *Factor) Verify(_ context.Context, in factor.VerifyInput) (factor.Match, error) {
	if in.Challenge == nil {
		return factor.Match{}, fmt.Errorf("%w: push: no challenge", factor.ErrExpired)
	}
	var cs challengeState
	if err := json.Unmarshal(in.Challenge.Data, &cs); err != nil {
		return factor.Match{}, fmt.Errorf("%w: push: challenge state", factor.ErrSealed)
	}
	a, sig, err := ParseAnswer([]byte(in.Response))
	if err != nil {
		return factor.Match{}, err
	}
	_, key, err := decodeDevice(in.Factor.Data)
	if err != nil {
		return factor.Match{}, err
	}
	ok := key.verify(AnswerMessage(a.RequestID, a.DeviceID, a.Number, a.Decision, a.Time), sig)
	switch {
	case !ok:
		return factor.Match{}, ErrBadSignature
	case subtle.ConstantTimeCompare([]byte(a.RequestID), []byte(cs.RequestID)) != 1:
		return factor.Match{}, fmt.Errorf("%w: push: answer to another request", factor.ErrChallengeMismatch)
	case a.DeviceID != in.Factor.Lookup || (len(cs.Devices) > 0 && !slices.Contains(cs.Devices, in.Factor.ID)):
		return factor.Match{}, fmt.Errorf("%w: push: answer from another device", factor.ErrChallengeMismatch)
	case !in.Now.Before(cs.Expires):
		return factor.Match{}, fmt.Errorf("%w: push request expired", factor.ErrExpired)
	case a.Decision != Approve:
		return factor.Match{}, ErrDenied
	case subtle.ConstantTimeCompare(f.numberHash(a.RequestID, a.Number), cs.Number) != 1:
		return factor.Match{}, ErrWrongNumber
	}
	// Single use is the challenge's, taken by the Verifier; the counter
	// only records one more use of the device.
	return factor.Match{Counter: in.Factor.Counter + 1, AMR: []string{"swk", "mca"}, AAL: factor.AAL2, Remaining: -1}, nil
}
