package mfa

import (
	"context"
	"errors"
	"fmt"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// name fills in the user and factor a request leaves out: from the
// response, for kinds that name their factor (a discoverable passkey), or
// the user's only active factor of the requested kind.
func (v *Verifier) name(ctx context.Context, req *VerifyRequest) error {
	if req.UserID == "" || (req.FactorID == "" && v.resolves(req.Kind)) {
		if err := v.resolve(ctx, req); err != nil {
			return v.unresolved(ctx, *req, err)
		}
	}
	if req.FactorID == "" {
		return v.pickByKind(ctx, req)
	}
	return nil
}

// resolves reports whether kind names its factor from the response.
func (v *Verifier) resolves(kind Kind) bool {
	_, ok := v.factors[kind].(factor.Resolver)
	return ok
}

// resolve names the user and factor from the response for kinds that can
// (a discoverable passkey). When the request already names a user (or a
// factor), the response must name one of theirs.
func (v *Verifier) resolve(ctx context.Context, req *VerifyRequest) error {
	f, ok := v.factors[req.Kind]
	if !ok {
		return fmt.Errorf("%w: a user ID is required", ErrInvalidInput)
	}
	r, ok := f.(factor.Resolver)
	if !ok {
		return fmt.Errorf("%w: a user ID is required for kind %q", ErrInvalidInput, req.Kind)
	}
	lookup, err := r.Resolve(ctx, req.Response)
	if err != nil {
		return classify(err)
	}
	rec, err := v.store.FindFactor(ctx, string(req.Kind), lookup)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return wrap(ErrStore, err)
	}
	if (req.UserID != "" && rec.UserID != req.UserID) || (req.FactorID != "" && rec.ID != req.FactorID) {
		return fmt.Errorf("%w: the response names a factor of another user", ErrNotFound)
	}
	req.UserID, req.FactorID = rec.UserID, rec.ID
	return nil
}

// unresolved reports a response that named no factor of the user. No
// secret was compared, but the attempt still counts against the client IP
// (there is no user to count it against yet) and emits a failure, so
// spraying credentials is limited and seen.
func (v *Verifier) unresolved(ctx context.Context, req VerifyRequest, err error) error {
	ev := Event{UserID: req.UserID, Kind: req.Kind, IP: req.IP, Time: v.now(), Remaining: -1}
	if req.IP != "" && !errors.Is(err, ErrStore) {
		ip := store.Counter{Key: store.CounterKey{Scope: store.ScopeIP, IP: req.IP}, Rule: v.limits.IP}
		hit, herr := v.store.Hit(ctx, store.HitRequest{Now: ev.Time, Counters: []store.Counter{ip}})
		if herr != nil {
			return v.fail(ctx, ev, wrap(ErrStore, herr))
		}
		if !hit.Admitted {
			return v.refuse(ctx, ev, hit)
		}
	}
	return v.fail(ctx, ev, err)
}

func (v *Verifier) pickByKind(ctx context.Context, req *VerifyRequest) error {
	if req.Kind == "" {
		return fmt.Errorf("%w: a factor ID or kind is required", ErrInvalidInput)
	}
	if req.UserID == "" {
		return fmt.Errorf("%w: a user ID is required", ErrInvalidInput)
	}
	list, err := v.store.ListFactors(ctx, req.UserID)
	if err != nil {
		return wrap(ErrStore, err)
	}
	found := ""
	for _, f := range list {
		if Kind(f.Kind) != req.Kind || f.Status != store.StatusActive {
			continue
		}
		if found != "" {
			return fmt.Errorf("%w: several factors of kind %q; name one", ErrInvalidInput, req.Kind)
		}
		found = f.ID
	}
	if found == "" {
		return ErrNotFound
	}
	req.FactorID = found
	return nil
}
