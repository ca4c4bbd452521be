package store

import (
	"context"
	"time"
)

// CaseState is the life-cycle state of a recovery case. States only move
// forward, so a compare-and-set on the state is a compare-and-set on the
// whole record:
//
//	pending  -> approved, denied, cancelled
//	approved -> redeemed, cancelled
//	redeemed -> completed, cancelled
type CaseState string

const (
	CasePending   CaseState = "pending"   // opened, waiting for review
	CaseApproved  CaseState = "approved"  // an operator approved; the grant is not yet used
	CaseDenied    CaseState = "denied"    // an operator refused (final)
	CaseCancelled CaseState = "cancelled" // the owner signed in, or someone withdrew it (final)
	CaseRedeemed  CaseState = "redeemed"  // the grant was used once; a new factor may be enrolled
	CaseCompleted CaseState = "completed" // the new factor was confirmed (final)
)

// RecoveryCase is one request of a user, who lost every factor, to get
// back into their account.
type RecoveryCase struct {
	ID     string // random, unique
	UserID string
	State  CaseState
	// Token is the keyed hash of the requester's grant token, never the
	// token itself. A backend stores it as opaque bytes.
	Token []byte
	// Data is the caller's record of the case (source, reason, validator,
	// review notes and who acted) as opaque bytes.
	Data    []byte
	Created time.Time
	Updated time.Time // the last move
	// NotBefore and Expires bound when the case can be used in its
	// current state (for an approved case: the grant's window).
	NotBefore time.Time
	Expires   time.Time
}

// CaseMove is the argument of [Recovery.MoveCase].
type CaseMove struct {
	ID       string
	From, To CaseState
	Now      time.Time // becomes Updated
	// NotBefore and Expires replace the stored ones when not zero; Data
	// replaces the stored Data when not nil.
	NotBefore, Expires time.Time
	Data               []byte
}

// Open reports whether a case in state s may still move on to a grant:
// pending or approved.
func (s CaseState) Open() bool { return s == CasePending || s == CaseApproved }

// Recovery keeps recovery cases. Cases are audit records: nothing expires
// them, and no Sweeper removes them.
type Recovery interface {
	// CreateCase stores c; ErrExists if its ID is taken.
	CreateCase(ctx context.Context, c RecoveryCase) error
	// GetCase returns one case or an error wrapping ErrNotFound.
	GetCase(ctx context.Context, id string) (RecoveryCase, error)
	// ListCases returns every case of a user, in any state, ordered by
	// Created then ID. None is an empty slice, not an error.
	ListCases(ctx context.Context, userID string) ([]RecoveryCase, error)
	// ListOpenCases returns the cases of all users whose State is pending
	// or approved, ordered by Created then ID, at most limit of them (the
	// first ones). A limit below 1 returns none.
	ListOpenCases(ctx context.Context, limit int) ([]RecoveryCase, error)
	// MoveCase atomically moves a case from m.From to m.To, and in the
	// same operation sets Updated to m.Now and replaces NotBefore,
	// Expires and Data as [CaseMove] says; it returns the case as stored
	// after the move. An unknown case wraps ErrNotFound; a case whose
	// State is not m.From wraps ErrConflict, and nothing changes. Of N
	// concurrent moves from the same state, exactly one succeeds.
	MoveCase(ctx context.Context, m CaseMove) (RecoveryCase, error)
}
