package mfa

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/mfakit/mfa/store"
)

// IssueLimits caps how many challenges are issued, per user, per client
// IP and in all, within a fixed window. Every challenge is a stored record
// and, for kinds that send a code or a push, costs money; these caps
// bound both. A zero field takes its default; a negative count turns that
// cap off, which leaves the cost it bounds unbounded.
type IssueLimits struct {
	// Window is the length of the fixed windows the counts restart at,
	// aligned to the Unix epoch. Default 15 minutes.
	Window time.Duration
	// PerUser is the most challenges issued to one user in a window.
	// Default 10.
	PerUser int
	// PerIP is the most challenges issued to one client address in a
	// window, whoever they name: it bounds what an anonymous requester
	// (a passkey sign-in page) can make the store keep. Applied when the
	// request names an IP. Default 100.
	PerIP int
	// Global is the most challenges issued in a window across every user
	// and address. Default 100000; raise it for more traffic, as reaching
	// it refuses everyone's challenges until the window ends.
	Global int
}

func (l IssueLimits) withDefaults() (IssueLimits, error) {
	if l.Window == 0 {
		l.Window = 15 * time.Minute
	}
	if l.PerUser == 0 {
		l.PerUser = 10
	}
	if l.PerIP == 0 {
		l.PerIP = 100
	}
	if l.Global == 0 {
		l.Global = 100000
	}
	if l.Window < time.Second {
		return l, fmt.Errorf("%w: Issue.Window must be at least a second", ErrConfig)
	}
	return l, nil
}

// issueCounters are the counters a challenge is counted against, in the
// window now falls in, and the instant that window ends.
func (v *Verifier) issueCounters(userID, ip string, now time.Time) ([]store.Counter, time.Time) {
	w := int64(v.issue.Window / time.Second)
	n := now.Unix() / w
	window := strconv.FormatInt(n, 10)
	end := time.Unix((n+1)*w, 0).UTC()
	rule := func(count int) store.Rule {
		// count issues are admitted; the count-th sets a delay that
		// outlasts the window, whose key the next window does not share.
		return store.Rule{Free: count, Base: v.issue.Window, Max: v.issue.Window, TTL: v.issue.Window}
	}
	var cs []store.Counter
	if userID != "" && v.issue.PerUser > 0 {
		cs = append(cs, store.Counter{Key: store.CounterKey{Scope: store.ScopeIssue, UserID: userID, Window: window}, Rule: rule(v.issue.PerUser)})
	}
	if ip != "" && v.issue.PerIP > 0 {
		cs = append(cs, store.Counter{Key: store.CounterKey{Scope: store.ScopeIssue, IP: ip, Window: window}, Rule: rule(v.issue.PerIP)})
	}
	if v.issue.Global > 0 {
		cs = append(cs, store.Counter{Key: store.CounterKey{Scope: store.ScopeIssue, Window: window}, Rule: rule(v.issue.Global)})
	}
	return cs, end
}

// admitIssue counts one challenge about to be issued, before the factor
// makes it (and perhaps sends it), and loads the factor load names in the
// same store call. A refusal is a [RateLimitError] whose RetryAfter is the
// end of the window. It returns the counters it counted, so a later
// refusal can take the count back.
func (v *Verifier) admitIssue(ctx context.Context, ev Event, load store.FactorRef) ([]store.Counter, store.HitResult, error) {
	cs, end := v.issueCounters(ev.UserID, ev.IP, ev.Time)
	if len(cs) == 0 && load.ID == "" {
		return nil, store.HitResult{Admitted: true}, nil
	}
	hit, err := v.hit(ctx, ev.Time, cs, load)
	if err != nil {
		return nil, hit, err
	}
	if hit.Admitted {
		return cs, hit, nil
	}
	hit.Locked = false // an issuance cap never locks: the next window admits
	if hit.RetryAfter.IsZero() || hit.RetryAfter.After(end) {
		hit.RetryAfter = end
	}
	return nil, hit, v.refuse(ctx, ev, hit)
}
