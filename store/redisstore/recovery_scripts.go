package redisstore

import "github.com/redis/go-redis/v9"

// The scripts of store.Recovery. Every key of every case shares the hash
// tag {rc}: the case records, each user's index and the index of open
// cases. Recovery cases are few, so one slot holds them all, and each
// script touches its case and the indexes atomically, on Redis Cluster
// too. Cases are audit records and get no TTL.

// createCaseScript inserts a case if its ID is free and adds it to its
// user's index and, when open, to the open index, each scored by Created
// so equal scores order by ID.
//
// KEYS: the case, the user's index, the open index. ARGV: ID, score,
// open ('1' or '0'), then field-value pairs.
var createCaseScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 'ex' end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
if ARGV[3] == '1' then redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1]) end
return 'ok'
`)

// moveCaseScript is the compare-and-set of store.Recovery.MoveCase.
//
// KEYS: the case, the open index. ARGV: ID, from, to, to is open ('1' or
// '0'), updated, not-before, expires, has data ('1' or '0'), data.
// Reply: 'nf', 'cf', or the case's fields after the move.
var moveCaseScript = redis.NewScript(luaPut + `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'nf' end
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[2] then return 'cf' end
redis.call('HSET', KEYS[1], 'state', ARGV[3])
put(KEYS[1], 'updated', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'not_before', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'expires', ARGV[7]) end
if ARGV[8] == '1' then put(KEYS[1], 'data', ARGV[9]) end
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'score') or '0', ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return redis.call('HGETALL', KEYS[1])
`)
