package redisstore

import (
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// TestRuleArg: the hit script's argument for a rule is the rule's text
// whether the Store kept it or not: for rules that differ from another in
// one field of the text only, for rules whose text is the same (TTL is not
// in it), past the number of rules a Store keeps, and from goroutines
// asking at once.
func TestRuleArg(t *testing.T) {
	base := store.Rule{Free: 5, Base: 30 * time.Second, Max: time.Hour, Cap: 10}
	rules := []store.Rule{base, {}, {TTL: time.Hour}, {Free: -1, Base: -time.Second, Cap: -3}}
	for i := 1; len(rules) < 3*maxRuleArgs; i++ {
		for field := range 4 {
			r := base
			switch field {
			case 0:
				r.Free += i
			case 1:
				r.Base += time.Duration(i) * time.Millisecond
			case 2:
				r.Max += time.Duration(i) * time.Millisecond
			case 3:
				r.Cap += i
			}
			rules = append(rules, r)
		}
	}
	s := &Store{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for round := range 3 {
				for i := range rules {
					r := rules[(i+g*7)%len(rules)]
					if got, want := s.ruleArg(r), ruleText(r); got != any(want) {
						t.Errorf("goroutine %d, round %d: rule %+v: argument %v, want %q", g, round, r, got, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if kept := s.rules.Load(); kept == nil || len(*kept) != maxRuleArgs {
		t.Errorf("the Store keeps %v rule arguments, want %d", kept, maxRuleArgs)
	}
	if got := ruleText(base); got != "5 30000 3600000 10" {
		t.Errorf("ruleText(%+v) = %q", base, got)
	}
}
