package recovery

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mfakit/mfa/store"
)

// State is a case's life-cycle state (see store.CaseState for the moves).
type State = store.CaseState

// The states of a case.
const (
	Pending   = store.CasePending
	Approved  = store.CaseApproved
	Denied    = store.CaseDenied
	Cancelled = store.CaseCancelled
	Redeemed  = store.CaseRedeemed
	Completed = store.CaseCompleted
)

// Source is where a request came from, as the application saw it.
type Source struct {
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"ua,omitempty"`
	Place     string `json:"place,omitempty"` // e.g. a city from geolocation, when known
}

// Action is one entry of a case's history.
type Action struct {
	Type  EventType `json:"type"`
	Actor string    `json:"actor"`
	Note  string    `json:"note,omitempty"`
	Time  time.Time `json:"time"`
}

// Case is a recovery case as an operator reviews it.
type Case struct {
	ID     string
	UserID string
	State  State
	Source Source
	// Reason is the requester's own words.
	Reason string
	// Validator is who or what vouched for the requester before the case
	// was opened (e.g. "password+email-link").
	Validator string
	History   []Action
	Created   time.Time
	Updated   time.Time
	// NotBefore and Expires bound the current state: a pending case
	// lapses at Expires; an approved one can be redeemed from NotBefore
	// until Expires; a redeemed one must be completed by Expires.
	NotBefore time.Time
	Expires   time.Time
}

// record is what Data holds.
type record struct {
	Source    Source   `json:"source"`
	Reason    string   `json:"reason,omitempty"`
	Validator string   `json:"validator,omitempty"`
	History   []Action `json:"history"`
}

func decode(rc store.RecoveryCase) (Case, error) {
	var r record
	if err := json.Unmarshal(rc.Data, &r); err != nil {
		return Case{}, wrap(ErrStore, fmt.Errorf("case data: %w", err))
	}
	return Case{
		ID: rc.ID, UserID: rc.UserID, State: rc.State, Source: r.Source, Reason: r.Reason,
		Validator: r.Validator, History: r.History, Created: rc.Created, Updated: rc.Updated,
		NotBefore: rc.NotBefore, Expires: rc.Expires,
	}, nil
}

func (c Case) data() []byte {
	b, _ := json.Marshal(record{Source: c.Source, Reason: c.Reason, Validator: c.Validator, History: c.History})
	return b
}

// Input sizes.
const (
	maxID   = 256
	maxText = 2048
)

// checkText refuses, before the store sees them, values that are too long,
// not valid UTF-8 or that hold control characters (a newline that would
// split a log line). The error never quotes them.
func checkText(max int, vals ...string) error {
	for _, s := range vals {
		switch {
		case len(s) > max:
			return fmt.Errorf("%w: a value is longer than %d bytes", ErrInvalidInput, max)
		case !utf8.ValidString(s):
			return fmt.Errorf("%w: a value is not valid UTF-8", ErrInvalidInput)
		case strings.ContainsFunc(s, unicode.IsControl):
			return fmt.Errorf("%w: a value holds a control character", ErrInvalidInput)
		}
	}
	return nil
}

func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("%w: %s is required", ErrInvalidInput, what)
	}
	return checkText(maxID, id)
}

// OpenRequest opens a case, after the application's own identity checks.
type OpenRequest struct {
	UserID    string
	Source    Source
	Reason    string
	Validator string // required: who or what vouched
}

// Opened is a new case and the requester's grant token. Show the token
// once (or send it to the requester); it is stored only as a keyed hash.
// Once the case is approved and its waiting period has passed, the token
// redeems it, once.
type Opened struct {
	Case  Case
	Token string
}

// Open records a pending case for a user who has lost every factor. It is
// counted against the caps first; a user with no active factor is refused
// with ErrNoFactors. The user is notified (Config.Notify) before Open
// returns; if that fails, the case is withdrawn and the error returned.
func (m *Manager) Open(ctx context.Context, req OpenRequest) (*Opened, error) {
	if err := checkID("a user ID", req.UserID); err != nil {
		return nil, err
	}
	if req.Validator == "" {
		return nil, fmt.Errorf("%w: a validator is required", ErrInvalidInput)
	}
	if err := checkText(maxText, req.Source.IP, req.Source.UserAgent, req.Source.Place, req.Reason, req.Validator); err != nil {
		return nil, err
	}
	now := m.now()
	if err := m.admit(ctx, req.UserID, req.Source.IP, now); err != nil {
		return nil, err
	}
	if err := m.hasFactors(ctx, req.UserID); err != nil {
		return nil, err
	}
	id, secret, err := m.newToken()
	if err != nil {
		return nil, err
	}
	c := Case{
		ID: id, UserID: req.UserID, State: Pending, Source: req.Source, Reason: req.Reason,
		Validator: req.Validator, Created: now, Updated: now, Expires: now.Add(m.pendingTTL),
		History: []Action{{Type: EventOpened, Actor: req.UserID, Time: now}},
	}
	rc := store.RecoveryCase{
		ID: id, UserID: c.UserID, State: Pending, Token: m.tokenHash(id, secret), Data: c.data(),
		Created: now, Updated: now, Expires: c.Expires,
	}
	if err := m.store.CreateCase(ctx, rc); err != nil {
		return nil, wrap(ErrStore, err)
	}
	ev := Event{Type: EventOpened, Time: now, CaseID: id, UserID: c.UserID, Actor: c.UserID, IP: req.Source.IP}
	if err := m.emit(ctx, ev); err != nil {
		return nil, errors.Join(err, m.withdraw(ctx, c, Pending, "the request was not delivered"))
	}
	out := &Opened{Case: c, Token: id + "." + secret}
	if m.auto != nil {
		ok, err := m.auto(ctx, c)
		if err != nil {
			return out, wrap(ErrDenied, err) // the case stays pending for an operator
		}
		if ok {
			ac, err := m.approve(ctx, c, ActorAuto, "approved by an automatic rule")
			if err != nil {
				return out, err
			}
			out.Case = ac
		}
	}
	return out, nil
}

// newToken returns a case ID and the grant token's secret: 128 and 256
// random bits.
func (m *Manager) newToken() (id, secret string, err error) {
	var b [48]byte
	if _, err := io.ReadFull(m.rand, b[:]); err != nil {
		return "", "", fmt.Errorf("mfa: recovery: random: %w", err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(b[:16]), enc.EncodeToString(b[16:]), nil
}

func (m *Manager) tokenHash(id, secret string) []byte {
	h := m.hasher.Sum("mfa/recovery/grant", []byte(id), []byte(secret))
	return h[:]
}

// move makes one transition with a compare-and-set on the state and
// appends act to the history.
func (m *Manager) move(ctx context.Context, c Case, from, to State, act Action, notBefore, expires time.Time) (Case, error) {
	now := m.now()
	act.Time = now
	c.History = append(c.History, act)
	rc, err := m.store.MoveCase(ctx, store.CaseMove{ID: c.ID, From: from, To: to, Now: now, NotBefore: notBefore, Expires: expires, Data: c.data()})
	switch {
	case errors.Is(err, store.ErrConflict):
		return Case{}, ErrState
	case errors.Is(err, store.ErrNotFound):
		return Case{}, ErrNotFound
	case err != nil:
		return Case{}, wrap(ErrStore, err)
	}
	return decode(rc)
}

// get reads a case.
func (m *Manager) get(ctx context.Context, id string) (Case, store.RecoveryCase, error) {
	if err := checkID("a case ID", id); err != nil {
		return Case{}, store.RecoveryCase{}, err
	}
	rc, err := m.store.GetCase(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Case{}, store.RecoveryCase{}, ErrNotFound
	}
	if err != nil {
		return Case{}, store.RecoveryCase{}, wrap(ErrStore, err)
	}
	c, err := decode(rc)
	return c, rc, err
}

// Case returns one case.
func (m *Manager) Case(ctx context.Context, id string) (Case, error) {
	c, _, err := m.get(ctx, id)
	return c, err
}

// Cases returns a user's cases, oldest first.
func (m *Manager) Cases(ctx context.Context, userID string) ([]Case, error) {
	if err := checkID("a user ID", userID); err != nil {
		return nil, err
	}
	list, err := m.store.ListCases(ctx, userID)
	if err != nil {
		return nil, wrap(ErrStore, err)
	}
	return decodeAll(list)
}

// Queue returns up to limit open cases (pending or approved), oldest
// first: the operators' review queue.
func (m *Manager) Queue(ctx context.Context, limit int) ([]Case, error) {
	list, err := m.store.ListOpenCases(ctx, limit)
	if err != nil {
		return nil, wrap(ErrStore, err)
	}
	return decodeAll(list)
}

func decodeAll(list []store.RecoveryCase) ([]Case, error) {
	out := make([]Case, 0, len(list))
	for _, rc := range list {
		c, err := decode(rc)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

var noTime time.Time
