package sqlstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/mfakit/mfa/store"
)

// Forgive implements [store.Counters]: one statement per counter, each
// applying [store.Rule.Forgive] in SQL so concurrent hits are never lost.
func (s *Store) Forgive(ctx context.Context, now time.Time, counters ...store.Counter) error {
	if len(counters) == 0 {
		return nil
	}
	return wrapErr("forgive counters", s.forgiveAlone(ctx, now, counters))
}

// forgiveAlone forgives outside a transaction: each statement is atomic on
// its own and touches one row, and each is retried alone if the database
// aborts it for contention (retrying them together would forgive the
// committed ones twice).
func (s *Store) forgiveAlone(ctx context.Context, now time.Time, counters []store.Counter) error {
	for _, c := range counters {
		if err := s.retry(ctx, func() error { return s.forgiveOne(ctx, s.db, now, c) }); err != nil {
			return err
		}
	}
	return nil
}

// forgive takes one failure back from each live counter and clears its
// delay once it is below the rule's Free, in one transaction q. Counters
// are taken in key order, as Hit locks them, so that they never wait on
// each other in a cycle; a key given twice is forgiven twice.
func (s *Store) forgive(ctx context.Context, q querier, now time.Time, counters []store.Counter) error {
	if len(counters) > 1 {
		counters = slices.Clone(counters)
		slices.SortStableFunc(counters, func(a, b store.Counter) int { return strings.Compare(a.Key.String(), b.Key.String()) })
	}
	for _, c := range counters {
		if err := s.forgiveOne(ctx, q, now, c); err != nil {
			return err
		}
	}
	return nil
}

// forgiveOne applies [store.Rule.Forgive] to one counter in one statement.
// until_us is assigned before failures because MySQL evaluates SET
// assignments left to right with the values already assigned.
func (s *Store) forgiveOne(ctx context.Context, q querier, now time.Time, c store.Counter) error {
	const stmt = "UPDATE {p}counters SET " +
		"until_us = CASE WHEN failures - 1 < ? THEN 0 ELSE until_us END, " +
		"failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END " +
		"WHERE counter_key = ? AND failures > 0 AND (expires_us = 0 OR expires_us > ?)"
	_, err := q.ExecContext(ctx, s.sql(stmt), c.Rule.Free, c.Key.String(), micros(now))
	return err
}
