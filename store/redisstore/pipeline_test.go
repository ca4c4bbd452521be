package redisstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store"
)

// TestHitPipelineReuse: Hit sends its script and the factor's HMGET in one
// pipeline, which the Store keeps for the next call. A Hit that failed
// (here on a cancelled context, after its commands were queued) leaves
// nothing in it: the next Hit sends exactly its own two commands and
// gets its own answer. A hook the application adds to the client after
// the Store made its pipeline still sees every pipeline it sends.
func TestHitPipelineReuse(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := store.Factor{UserID: "u1", ID: "f1", Kind: "totp", Name: "Phone", Status: store.StatusActive,
		Secret: []byte("sealed seed"), Counter: 7, Created: now, Confirmed: now}
	if err := s.CreateFactor(ctx, f); err != nil {
		t.Fatal(err)
	}
	req := store.HitRequest{Now: now, Load: store.FactorRef{UserID: f.UserID, ID: f.ID}, Counters: []store.Counter{
		{Key: store.CounterKey{Scope: store.ScopeUser, UserID: f.UserID}, Rule: store.Rule{Free: 5, Cap: 10}},
		{Key: store.CounterKey{Scope: store.ScopeFactor, UserID: f.UserID, FactorID: f.ID}, Rule: store.Rule{Free: 5, TTL: time.Hour}},
	}}
	hit := func(ctx context.Context) (store.HitResult, error) {
		res, err := s.Hit(ctx, req)
		if err == nil {
			err = s.Reset(context.Background(), req.Counters[0].Key, req.Counters[1].Key)
		}
		return res, err
	}
	if _, err := hit(ctx); err != nil { // the Store now keeps a pipeline
		t.Fatal(err)
	}
	sizes := &pipelineSizes{}
	c.AddHook(sizes)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := hit(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hit on a cancelled context: %v, want context.Canceled", err)
	}
	for i := range 3 {
		res, err := hit(ctx)
		if err != nil {
			t.Fatalf("Hit %d after the failed one: %v", i, err)
		}
		if !res.Admitted || !res.Found || res.Factor.Counter != f.Counter {
			t.Fatalf("Hit %d after the failed one: %+v", i, res)
		}
	}
	got := sizes.get()
	if len(got) != 4 {
		t.Fatalf("the hook saw %d pipelines (%v), want 4: one per Hit since it was added", len(got), got)
	}
	for i, n := range got {
		if n != 2 {
			t.Errorf("pipeline %d held %d commands, want 2 (the script and the HMGET): %v", i, n, got)
		}
	}
}

// pipelineSizes is a redis.Hook that records how many commands each
// pipeline sends.
type pipelineSizes struct {
	mu sync.Mutex
	n  []int
}

func (p *pipelineSizes) get() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.n...)
}

func (p *pipelineSizes) DialHook(next redis.DialHook) redis.DialHook { return next }

func (p *pipelineSizes) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (p *pipelineSizes) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		p.mu.Lock()
		p.n = append(p.n, len(cmds))
		p.mu.Unlock()
		return next(ctx, cmds)
	}
}
