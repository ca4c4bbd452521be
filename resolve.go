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
			return v.failByIP(ctx, *req, err)
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
