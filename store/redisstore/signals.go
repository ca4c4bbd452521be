package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store"
)

// A signal list is a sorted set under mfa:{sg:<key>}, each list in a hash
// slot of its own. A record is a member scored by its Time (ms); the
// member is "<seq>:<time>:<expires>:<data>", where seq is the record's
// insertion number in its list, 16 decimal digits, one above the highest
// in the list when it went in. Members of equal score sort bytewise, so by
// seq: records of equal Times keep the order they were added in.

func (s *Store) signalKey(key string) string { return s.tagged("sg:", key, "") }

// luaSignalExpires returns a member's expiry (ms).
const luaSignalExpires = `
local function expires(m)
  local a = string.find(m, ':', 18, true)
  local b = string.find(m, ':', a + 1, true)
  return tonumber(string.sub(m, a + 1, b - 1))
end
`

// signalScript is one sighting of Signals.Observe: it drops the list's
// records expired at now, adds the record, trims the list to its Keep
// newest and returns it, oldest first. The key's TTL becomes the remaining
// lifetime of its latest record plus grace, in the caller's time, so an
// abandoned list goes without Sweep; a list left empty is gone at once
// (Redis deletes an empty sorted set).
//
// KEYS: the list. ARGV: now, keep, '1' to add, time, expires, data, grace.
// Reply: the members, oldest first.
var signalScript = redis.NewScript(luaFmt + luaSignalExpires + `
local now, keep, grace = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[7])
local seq = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local q = tonumber(string.sub(m, 1, 16))
  if q > seq then seq = q end
  if expires(m) <= now then redis.call('ZREM', KEYS[1], m) end
end
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], ARGV[4], string.format('%016.0f', seq + 1) .. ':' .. ARGV[4] .. ':' .. ARGV[5] .. ':' .. ARGV[6])
end
local n = redis.call('ZCARD', KEYS[1])
if n > keep then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1) end
local list = redis.call('ZRANGE', KEYS[1], 0, -1)
local latest
for _, m in ipairs(list) do
  local e = expires(m)
  if not latest or e > latest then latest = e end
end
if latest then redis.call('PEXPIRE', KEYS[1], fmt(latest - now + grace)) end
return list
`)

// signalSweepScript drops the records of one list expired at now.
//
// KEYS: the list. ARGV: now. Reply: how many went.
var signalSweepScript = redis.NewScript(luaSignalExpires + `
local now, n = tonumber(ARGV[1]), 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if expires(m) <= now then
    redis.call('ZREM', KEYS[1], m)
    n = n + 1
  end
end
return n
`)

// Observe implements [store.Signals]: every sighting is checked first, so
// a call holding one out of bounds sends nothing; then each sighting is
// one script, and all of them go in one pipeline. On a single Redis that
// is one round trip; on a Cluster, one to each node that holds one of the
// lists, all at once. Sightings of one list run in the call's order (one
// node runs a connection's commands in order); each is atomic, while
// those of different lists, in different slots, are not one transaction.
func (s *Store) Observe(ctx context.Context, now time.Time, sightings ...store.Sighting) ([][]store.Signal, error) {
	if len(sightings) == 0 {
		return nil, nil
	}
	for _, o := range sightings {
		if err := o.Check(); err != nil {
			return nil, err
		}
	}
	t := msDown(now)
	calls := make([]call, len(sightings))
	for i, o := range sightings {
		add := "0"
		if o.Signal.Data != nil && msUp(o.Signal.Expires) > t {
			add = "1"
		}
		calls[i] = call{keys: []string{s.signalKey(o.Key)}, args: []any{t, o.Keep, add,
			msDown(o.Signal.Time), msUp(o.Signal.Expires), string(o.Signal.Data), grace.Milliseconds()}}
	}
	cmds, err := s.runMany(ctx, signalScript, calls)
	if err != nil {
		return nil, fail("observe", err)
	}
	lists := make([][]store.Signal, len(sightings))
	for i, c := range cmds {
		members, err := c.StringSlice()
		if err != nil {
			return nil, fail("observe", err)
		}
		lists[i] = make([]store.Signal, len(members))
		for j, m := range members {
			if lists[i][j], err = parseSignal(m); err != nil {
				return nil, fail("observe", err)
			}
		}
	}
	return lists, nil
}

// parseSignal reads a member "<seq>:<time>:<expires>:<data>".
func parseSignal(m string) (store.Signal, error) {
	_, rest, ok1 := strings.Cut(m, ":")
	tm, rest, ok2 := strings.Cut(rest, ":")
	exp, data, ok3 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || !ok3 {
		return store.Signal{}, fmt.Errorf("bad signal record of %d bytes", len(m))
	}
	t, err1 := strconv.ParseInt(tm, 10, 64)
	e, err2 := strconv.ParseInt(exp, 10, 64)
	if err1 != nil || err2 != nil {
		return store.Signal{}, fmt.Errorf("bad time in a signal record")
	}
	return store.Signal{Time: time.UnixMilli(t).UTC(), Expires: time.UnixMilli(e).UTC(), Data: []byte(data)}, nil
}
