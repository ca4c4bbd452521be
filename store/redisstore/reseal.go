package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store"
)

var _ store.Resealable = (*Store)(nil)

// ScanFactors implements [store.Resealable] with SCAN over the factors'
// keys and one pipelined read of the page. SCAN returns every key present
// for the whole walk, some possibly twice. On a sharded client the walk
// goes through the shards (masters) one after another, in the order of
// their addresses; the cursor is "<shard>.<SCAN cursor>", so it stays
// valid while the set of shards does not change.
func (s *Store) ScanFactors(ctx context.Context, cursor string, limit int) ([]store.Factor, string, error) {
	const op = "scan factors"
	shards, err := s.shards(ctx)
	if err != nil {
		return nil, "", fail(op, err)
	}
	shard, cur, ok := parseScanCursor(cursor)
	if !ok || shard >= len(shards) {
		return nil, "", fmt.Errorf("mfa: redisstore: %s: %w", op, store.ErrInvalid)
	}
	limit = min(max(limit, 1), 10000)
	// Every factor key is prefix{u:<escaped user>}:f:<escaped id>; escaping
	// keeps '}' and ':' out of IDs, so no other key matches.
	match := globEscape(s.prefix) + "{u:*}:f:*"
	var keys []string
	for len(keys) == 0 && shard < len(shards) {
		got, nc, err := shards[shard].Scan(ctx, cur, match, int64(limit)).Result()
		if err != nil {
			return nil, "", fail(op, err)
		}
		keys, cur = append(keys, got...), nc
		if cur == 0 {
			shard++
		}
	}
	hashes, err := s.readAll(ctx, keys)
	if err != nil {
		return nil, "", fail(op, err)
	}
	page := make([]store.Factor, 0, len(hashes))
	for _, h := range hashes {
		if len(h) == 0 {
			continue // removed since SCAN saw it
		}
		f, err := hash(h).factor()
		if err != nil {
			return nil, "", fail(op, err)
		}
		page = append(page, f)
	}
	next := ""
	if shard < len(shards) {
		next = strconv.Itoa(shard) + "." + strconv.FormatUint(cur, 10)
	}
	return page, next, nil
}

// parseScanCursor reads "<shard>.<SCAN cursor>"; "" is the start.
func parseScanCursor(c string) (int, uint64, bool) {
	if c == "" {
		return 0, 0, true
	}
	a, b, ok := strings.Cut(c, ".")
	if !ok || len(c) > 64 {
		return 0, 0, false
	}
	shard, err1 := strconv.ParseUint(a, 10, 16)
	cur, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return int(shard), cur, true
}

// shards returns the clients to SCAN: the client itself, or a sharded
// client's masters ordered by address.
func (s *Store) shards(ctx context.Context) ([]scanner, error) {
	var (
		mu    sync.Mutex // go-redis visits shards concurrently
		nodes []*redis.Client
	)
	add := func(_ context.Context, n *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, n)
		return nil
	}
	var err error
	switch c := s.c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, add)
	case *redis.Ring:
		err = c.ForEachShard(ctx, add)
	default:
		return []scanner{s.c}, nil
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(nodes, func(a, b *redis.Client) int { return strings.Compare(a.Options().Addr, b.Options().Addr) })
	out := make([]scanner, len(nodes))
	for i, n := range nodes {
		out[i] = n
	}
	return out, nil
}

// swapSecretScript sets a factor's secret if it is the expected one.
//
// KEYS: the factor. ARGV: old secret, new secret.
var swapSecretScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'nf' end
if (redis.call('HGET', KEYS[1], 'secret') or '') ~= ARGV[1] then return 'cf' end
redis.call('HSET', KEYS[1], 'secret', ARGV[2])
return 'ok'
`)

// SwapSecret implements [store.Resealable] as one script.
func (s *Store) SwapSecret(ctx context.Context, ref store.FactorRef, old, new []byte) error {
	v, err := swapSecretScript.Run(ctx, s.c, []string{s.factorKey(ref.UserID, ref.ID)}, old, new).Result()
	return status("swap secret", v, err)
}
