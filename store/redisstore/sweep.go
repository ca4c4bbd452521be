package redisstore

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store"
)

var _ store.Sweeper = (*Store)(nil)

// sweepScript deletes one record if it has expired at now.
//
// KEYS: the record, and a session's retired hashes. ARGV: kind ('c'
// counter, 'ch' challenge, 's' session, 'd' device), now.
// Reply: 1 deleted, 0 kept.
var sweepScript = redis.NewScript(`
local kind, now = ARGV[1], tonumber(ARGV[2])
local exp
if kind == 'c' then
  local v = redis.call('HGET', KEYS[1], 'e')
  if not v then return 0 end -- no TTL: kept until a Reset
  exp = tonumber(v)
elseif kind == 's' then
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
  local v = redis.call('HMGET', KEYS[1], 'expires', 'idle_expires')
  local e, i = tonumber(v[1]), tonumber(v[2])
  if e and i then exp = math.min(e, i) end
else
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
  exp = tonumber(redis.call('HGET', KEYS[1], 'expires'))
end
-- A record without an expiry where it needs one (the zero time) has
-- expired, as the operations themselves treat it.
if exp and now < exp then return 0 end
redis.call('DEL', unpack(KEYS))
return 1
`)

// Sweep implements [store.Sweeper]: it deletes the challenges, counters,
// sessions (past Expires or IdleExpires, revoked or not), devices and
// signal records expired at now and returns how many went.
//
// Redis needs no sweeping: every short-lived key already carries a TTL a
// little past its expiry (a signal list, a little past its latest
// record's; the expired records of a list still in use go at its next
// Observe). Sweep is for deployments that want expired
// records gone at a time they choose. It walks every key under the prefix
// (SCAN, on every shard), so it costs time in proportion to all keys,
// and re-checks each candidate in a script, so it never deletes a record
// that a concurrent write made live again. Index entries of deleted
// sessions and devices stay until a later create of the same user drops
// them (past their expiry plus grace); readers skip them.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int64, error) {
	var (
		mu    sync.Mutex // go-redis may sweep shards concurrently
		total int64
	)
	sweep := func(ctx context.Context, c scanner) error {
		n, err := s.sweepScan(ctx, c, now)
		mu.Lock()
		total += n
		mu.Unlock()
		return err
	}
	var err error
	switch c := s.c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return sweep(ctx, n) })
	case *redis.Ring:
		err = c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error { return sweep(ctx, n) })
	default:
		err = sweep(ctx, s.c)
	}
	if err != nil {
		return total, fail("sweep", err)
	}
	return total, nil
}

// scanner is what SCAN needs; every go-redis client has it.
type scanner interface {
	Scan(ctx context.Context, cursor uint64, match string, count int64) *redis.ScanCmd
}

func (s *Store) sweepScan(ctx context.Context, c scanner, now time.Time) (int64, error) {
	match := globEscape(s.prefix) + "*"
	var cursor uint64
	var total int64
	for {
		keys, next, err := c.Scan(ctx, cursor, match, 1000).Result()
		if err != nil {
			return total, err
		}
		var calls, lists []call
		for _, k := range keys {
			if s.isSignalKey(k) {
				lists = append(lists, call{keys: []string{k}, args: []any{msDown(now)}})
			} else if cl, ok := s.sweepCall(k, now); ok {
				calls = append(calls, cl)
			}
		}
		cmds, err := s.runMany(ctx, sweepScript, calls)
		if err != nil {
			return total, err
		}
		for _, cmd := range cmds {
			if v, _ := cmd.Int64(); v == 1 {
				total++
			}
		}
		// A signal list counts the records it drops.
		if cmds, err = s.runMany(ctx, signalSweepScript, lists); err != nil {
			return total, err
		}
		for _, cmd := range cmds {
			v, _ := cmd.Int64()
			total += v
		}
		if cursor = next; cursor == 0 {
			return total, nil
		}
	}
}

// sweepCall classifies a key by its layout (see the package docs) and
// returns the script call that sweeps it; factors, lookups, indexes and
// retired sets (deleted with their session) are not swept.
func (s *Store) sweepCall(key string, now time.Time) (call, bool) {
	rest := strings.TrimPrefix(key, s.prefix)
	if len(rest) == len(key) || !strings.HasPrefix(rest, "{") {
		return call{}, false
	}
	end := strings.IndexByte(rest, '}')
	if end < 0 {
		return call{}, false
	}
	tag, tail := rest[1:end], rest[end+1:]
	kind, _, _ := strings.Cut(tag, ":")
	keys := []string{key}
	switch {
	case strings.HasPrefix(tail, ":c:") && (kind == "u" || kind == "ip"):
		kind = "c"
	case tail != "":
		return call{}, false
	case kind == "s":
		keys = append(keys, key+":r")
	case kind == "ch", kind == "d":
	default:
		return call{}, false
	}
	return call{keys: keys, args: []any{kind, msDown(now)}}, true
}

// isSignalKey reports whether key is a signal list of this store: its
// tag starts with "sg:" and nothing follows the tag.
func (s *Store) isSignalKey(key string) bool {
	rest, ok := strings.CutPrefix(key, s.prefix)
	return ok && strings.HasPrefix(rest, "{sg:") && strings.IndexByte(rest, '}') == len(rest)-1
}

// globEscape escapes the characters SCAN's MATCH treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\', '^':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
