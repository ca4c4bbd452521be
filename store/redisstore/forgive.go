package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store"
)

// luaForgive applies store.Rule.Forgive to KEYS[first..] with the rule's
// Free in ARGV[argFirst..], one per key.
const luaForgive = `
local function forgive(now, first, argFirst)
  for i = first, #KEYS do
    local free = tonumber(ARGV[argFirst + i - first])
    local v = redis.call('HMGET', KEYS[i], 'n', 'e')
    local f, e = tonumber(v[1]) or 0, tonumber(v[2])
    if f > 0 and not (e and now >= e) then
      f = f - 1
      redis.call('HSET', KEYS[i], 'n', string.format('%.0f', f))
      if f < free then redis.call('HDEL', KEYS[i], 'u') end
    end
  end
end
`

// forgiveScript takes one failure back from each counter.
//
// KEYS: the counters. ARGV: now, then each counter's Free.
var forgiveScript = redis.NewScript(luaForgive + `
forgive(tonumber(ARGV[1]), 1, 2)
return 'ok'
`)

// Forgive implements [store.Counters]: one script per hash slot (one in all
// on a single Redis).
func (s *Store) Forgive(ctx context.Context, now time.Time, counters ...store.Counter) error {
	if len(counters) == 0 {
		return nil
	}
	groups := map[string][]store.Counter{}
	for _, c := range counters {
		tag := ""
		if s.sharded {
			tag = tagOf(s.counterKey(c.Key))
		}
		groups[tag] = append(groups[tag], c)
	}
	for _, g := range groups {
		keys := make([]string, len(g))
		args := make([]any, 1, 1+len(g))
		args[0] = strconv.FormatInt(msDown(now), 10)
		for i, c := range g {
			keys[i] = s.counterKey(c.Key)
			args = append(args, strconv.Itoa(c.Rule.Free))
		}
		v, err := forgiveScript.Run(ctx, s.c, keys, args...).Result()
		if err := status("forgive", v, err); err != nil {
			return err
		}
	}
	return nil
}
