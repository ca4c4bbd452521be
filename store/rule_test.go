package store_test

import (
	"math"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestRuleDelay(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name string
		rule store.Rule
		want []time.Duration // Delay(1), Delay(2), ...
	}{
		{"no free: never delays", store.Rule{Base: s, Max: time.Hour}, []time.Duration{0, 0, 0}},
		{"no base: never delays", store.Rule{Free: 1}, []time.Duration{0, 0, 0}},
		{"base from the Free-th, doubling", store.Rule{Free: 3, Base: 30 * s, Max: time.Hour},
			[]time.Duration{0, 0, 30 * s, 60 * s, 120 * s, 240 * s}},
		{"capped at Max", store.Rule{Free: 1, Base: 30 * s, Max: 100 * s},
			[]time.Duration{30 * s, 60 * s, 100 * s, 100 * s, 100 * s}},
		{"Max below Base", store.Rule{Free: 1, Base: time.Minute, Max: 10 * s},
			[]time.Duration{10 * s, 10 * s, 10 * s}},
		{"Max equal to Base", store.Rule{Free: 2, Base: 5 * s, Max: 5 * s},
			[]time.Duration{0, 5 * s, 5 * s, 5 * s}},
		{"no Max: keeps doubling", store.Rule{Free: 1, Base: s},
			[]time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range tt.want {
				if got := tt.rule.Delay(i + 1); got != want {
					t.Errorf("Delay(%d) = %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

func TestRuleDelayNeverShrinks(t *testing.T) {
	// Uncapped or near-overflow rules must saturate, not wrap to a
	// negative delay (which would lift the wait entirely).
	rules := []store.Rule{
		{Free: 5, Base: 30 * time.Second},
		{Free: 5, Base: 30 * time.Second, Max: time.Hour},
		{Free: 1, Base: time.Nanosecond},
		{Free: 1, Base: 1 << 62, Max: math.MaxInt64},
		{Free: 1, Base: math.MaxInt64},
	}
	for _, r := range rules {
		prev := time.Duration(0)
		for n := 0; n <= 300; n++ {
			d := r.Delay(n)
			if d < prev {
				t.Fatalf("%+v: Delay(%d) = %v < Delay(%d) = %v", r, n, d, n-1, prev)
			}
			if r.Max > 0 && d > r.Max {
				t.Fatalf("%+v: Delay(%d) = %v above Max", r, n, d)
			}
			prev = d
		}
		if prev <= 0 {
			t.Fatalf("%+v: Delay(300) = %v, want a positive delay", r, prev)
		}
	}
}

func TestRuleApply(t *testing.T) {
	const m = time.Minute
	tests := []struct {
		name string
		rule store.Rule
		in   store.CounterState
		now  time.Time
		want store.CounterState
	}{
		{"first failure", store.Rule{Free: 3, Base: m},
			store.CounterState{}, t0, store.CounterState{Failures: 1}},
		{"the Free-th failure sets Base", store.Rule{Free: 3, Base: m},
			store.CounterState{Failures: 2}, t0, store.CounterState{Failures: 3, Until: t0.Add(m)}},
		{"further failures double", store.Rule{Free: 3, Base: m, Max: time.Hour},
			store.CounterState{Failures: 4, Until: t0}, t0.Add(m), store.CounterState{Failures: 5, Until: t0.Add(5 * m)}},
		{"TTL sets the expiry", store.Rule{TTL: 10 * m},
			store.CounterState{Failures: 1, Expires: t0.Add(m)}, t0, store.CounterState{Failures: 2, Expires: t0.Add(10 * m)}},
		{"expired state starts from zero", store.Rule{Free: 2, Base: m, TTL: 10 * m},
			store.CounterState{Failures: 9, Until: t0.Add(m), Expires: t0}, t0,
			store.CounterState{Failures: 1, Expires: t0.Add(10 * m)}},
		{"no TTL keeps the old expiry", store.Rule{},
			store.CounterState{Failures: 1, Expires: t0.Add(m)}, t0, store.CounterState{Failures: 2, Expires: t0.Add(m)}},
		{"Free 0 never sets Until", store.Rule{Base: m, Cap: 3},
			store.CounterState{Failures: 2}, t0, store.CounterState{Failures: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.rule.Apply(tt.in, tt.now)
			if got.Failures != tt.want.Failures || !got.Until.Equal(tt.want.Until) || !got.Expires.Equal(tt.want.Expires) {
				t.Errorf("Apply(%+v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRuleBlocked(t *testing.T) {
	const m = time.Minute
	tests := []struct {
		name    string
		rule    store.Rule
		state   store.CounterState
		now     time.Time
		blocked bool
		hard    bool
		until   time.Time
	}{
		{"zero state", store.Rule{Free: 1, Base: m, Cap: 3}, store.CounterState{}, t0, false, false, time.Time{}},
		{"within the delay", store.Rule{Free: 1, Base: m}, store.CounterState{Failures: 1, Until: t0.Add(m)}, t0, true, false, t0.Add(m)},
		{"at Until", store.Rule{Free: 1, Base: m}, store.CounterState{Failures: 1, Until: t0}, t0, false, false, time.Time{}},
		{"below the cap", store.Rule{Cap: 3}, store.CounterState{Failures: 2}, t0, false, false, time.Time{}},
		{"at the cap: hard", store.Rule{Cap: 3}, store.CounterState{Failures: 3}, t0, true, true, time.Time{}},
		{"cap beats a delay", store.Rule{Free: 1, Base: m, Cap: 3}, store.CounterState{Failures: 3, Until: t0.Add(m)}, t0, true, true, time.Time{}},
		{"no cap", store.Rule{}, store.CounterState{Failures: 1000}, t0, false, false, time.Time{}},
		{"cap forgotten at expiry", store.Rule{Cap: 3, TTL: m}, store.CounterState{Failures: 3, Expires: t0}, t0, false, false, time.Time{}},
		{"cap just before expiry", store.Rule{Cap: 3, TTL: m}, store.CounterState{Failures: 3, Expires: t0.Add(1)}, t0, true, true, time.Time{}},
		{"delay forgotten at expiry", store.Rule{Free: 1, Base: time.Hour, TTL: m},
			store.CounterState{Failures: 1, Until: t0.Add(time.Hour), Expires: t0}, t0, false, false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blocked, hard, until := tt.rule.Blocked(tt.state, tt.now)
			if blocked != tt.blocked || hard != tt.hard || !until.Equal(tt.until) {
				t.Errorf("Blocked = %t, %t, %v; want %t, %t, %v", blocked, hard, until, tt.blocked, tt.hard, tt.until)
			}
		})
	}
}

func TestRuleLockout(t *testing.T) {
	// The library default shape: 100 consecutive failures lock hard, with
	// growing delays on the way, and the 101st attempt is refused.
	r := store.Rule{Free: 5, Base: 30 * time.Second, Max: time.Hour, Cap: 100}
	var s store.CounterState
	now := t0
	var last time.Duration
	for n := 1; n <= 100; n++ {
		if blocked, _, until := r.Blocked(s, now); blocked {
			t.Fatalf("attempt %d refused until %v at %v", n, until, now)
		}
		s = r.Apply(s, now)
		if d := s.Until.Sub(now); n >= 5 && d < last {
			t.Fatalf("delay shrank at failure %d: %v < %v", n, d, last)
		} else if n >= 5 {
			last = d
		}
		if s.Until.After(now) {
			now = s.Until
		}
	}
	if last != time.Hour {
		t.Fatalf("delay after 100 failures = %v, want the 1h maximum", last)
	}
	blocked, hard, _ := r.Blocked(s, now.Add(100*365*24*time.Hour))
	if !blocked || !hard {
		t.Fatalf("attempt 101: blocked %t hard %t, want a hard lock", blocked, hard)
	}
}
