package redisstore

import (
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Every operation the contract calls atomic is one of these scripts. Redis
// runs a script to completion before any other command, so a script is the
// unit of atomicity; each names every key it touches in KEYS, and all of
// them share one hash tag, so the scripts also run on Redis Cluster.
//
// Numbers are written with fmt (never Lua's tostring, which would switch
// to exponent notation) and times are integer milliseconds. The decision
// codes are those of status in redisstore.go.

// luaFmt formats a Lua number as an integer.
const luaFmt = `
local function fmt(x) return string.format('%.0f', x) end
`

// luaPut sets a hash field, or removes it when the value is empty, so
// absent and empty read back the same.
const luaPut = `
local function put(key, field, value)
  if value == '' then
    redis.call('HDEL', key, field)
  else
    redis.call('HSET', key, field, value)
  end
end
`

// luaIndexAdd adds a member to a per-user index (a sorted set of IDs,
// each scored by the instant, in the caller's milliseconds, after which
// Redis may have dropped its record: expiry plus grace), keeping the later
// score when the member is there already. In the same step it drops the
// entries whose score is before now, the caller's time of the add, so an
// entry goes only once its record is past its expiry plus grace: never
// while a create that added it may still be writing it. The set is kept at
// least as long as the record it names, without ever shortening it.
const luaIndexAdd = `
local function index_add(key, member, ttl, score, now)
  local cur = redis.call('PTTL', key)
  local old = redis.call('ZSCORE', key, member)
  if not old or tonumber(old) < tonumber(score) then
    redis.call('ZADD', key, score, member)
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. now)
  if cur == -2 or (cur >= 0 and cur < ttl) then
    redis.call('PEXPIRE', key, ttl)
  end
end
`

// hitScript implements store.Rule.Blocked and store.Rule.Apply over every
// counter of one request. The factor is read by an HMGET sent after it
// (hitCmds), not by the script.
//
// KEYS: the counters.
// ARGV: now, mode ('c' count, 'p' only decide), then three per counter:
// its rule, "Free Base Max Cap" in one text (decimal, none negative),
// then the expiry a count sets, now + TTL, and the key's time to live
// with it, TTL + grace (both empty without a TTL); all in ms. The rule is
// one text because only the general path reads all of it: every argument
// costs the server and the client on every call.
// Reply: {admitted, locked, retry-after ms}.
//
// The script is on the path of every verification, and Lua's tonumber and
// string.format, its tables and each redis.call are costly next to the
// work itself. So it has two paths:
//
//   - Lean: no counter exists and no key is named twice, which is the
//     state after a success (Advance deletes the user's and the factor's
//     counters) or a Reset. One EXISTS stands for the reads: every state
//     is zero, nothing blocks, and each count writes what the caller
//     handed over (n = 1, the expiry, the TTL) with no table and no
//     conversion, unless Free is 1 (the first failure then sets a delay).
//   - General: everything else, reading every counter (HMGET).
//
// Both write exactly what store.Rule.Apply says, in the same layout;
// TestHitPaths drives both against memstore.
var hitScript = newEvalScript(`
local n = #KEYS

-- The lean path: every counter missing and none named twice.
local lean = n == 0 or redis.call('EXISTS', unpack(KEYS, 1, n)) == 0
for i = 2, lean and n or 0 do
  for p = 1, i - 1 do
    if KEYS[p] == KEYS[i] then lean = false end
  end
end
if lean then
  if ARGV[2] == 'p' then return {1, 0, 0} end
  for i = 1, n do
    local o, k = 3 * i, KEYS[i] -- ARGV[o .. o + 2]: this counter's
    local es = ARGV[o + 1]
    local us = false
    local rule = ARGV[o]
    if string.byte(rule, 1) == 49 and string.byte(rule, 2) == 32 then
      -- Free 1 ("1 ..."): store.Rule.Delay(1) = min(Base, Max)
      local b, m = string.match(rule, '^1 (%d+) (%d+) ')
      local d, max = tonumber(b), tonumber(m)
      if max > 0 and d > max then d = max end
      us = string.format('%.0f', tonumber(ARGV[1]) + d)
    end
    if us and es ~= '' then
      redis.call('HSET', k, 'n', '1', 'u', us, 'e', es)
    elseif us then
      redis.call('HSET', k, 'n', '1', 'u', us)
    elseif es ~= '' then
      redis.call('HSET', k, 'n', '1', 'e', es)
    else
      redis.call('HSET', k, 'n', '1')
    end
    if es ~= '' then redis.call('PEXPIRE', k, ARGV[o + 2]) end
  end
  return {1, 0, 0}
end

-- The general path.
local badCounter = 'mfa: a counter holds a field that is not a number'
local grace = ` + strconv.FormatInt(grace.Milliseconds(), 10) + ` -- ms, as in Go
local now = false -- ARGV[1] as a number, read when a stored time needs it

-- st holds five slots per counter: count, until, expiry (false when
-- absent), and whether the hash holds 'u' and 'e'. rules holds four per
-- counter, the texts of Free, Base, Max and Cap.
local st, rules = {}, {}
for i = 1, n do
  local r = 4 * i - 3
  rules[r], rules[r + 1], rules[r + 2], rules[r + 3] = string.match(ARGV[3 * i], '^(%d+) (%d+) (%d+) (%d+)$')
  if not rules[r] then return redis.error_reply('mfa: a rule is not four numbers') end
end
local blocked, retry = false, 0
for i = 1, n do
  local v = redis.call('HMGET', KEYS[i], 'n', 'u', 'e')
  local f, u, e = 0, false, false
  -- A field that is not a number is an error, not a zero that would
  -- admit: nothing is written before this loop ends.
  if v[1] then f = tonumber(v[1]) if not f then return redis.error_reply(badCounter) end end
  if v[2] or v[3] then
    now = now or tonumber(ARGV[1])
    if v[2] then u = tonumber(v[2]) if not u then return redis.error_reply(badCounter) end end
    if v[3] then e = tonumber(v[3]) if not e then return redis.error_reply(badCounter) end end
  end
  local s = 5 * i - 4
  st[s + 3], st[s + 4] = v[2] ~= false, v[3] ~= false
  if e and now >= e then
    f, u, e = 0, false, false -- forgotten
  else
    local cap = rules[4 * i]
    if cap ~= '0' and f >= tonumber(cap) then return {0, 1, 0} end
    if u and now < u then
      blocked = true
      if u > retry then retry = u end
    end
  end
  st[s], st[s + 1], st[s + 2] = f, u, e
end
if blocked then return {0, 0, retry} end
if ARGV[2] == 'p' then return {1, 0, 0} end -- peek: decide, count nothing

for i = 1, n do
  local o, r = 3 * i, 4 * i - 3 -- ARGV[o .. o + 2], rules[r .. r + 3]: this counter's
  local k = KEYS[i]
  local s = 5 * i - 4
  -- A key named twice counts twice, from the state its first count left.
  local from = s
  for p = i - 1, 1, -1 do
    if KEYS[p] == k then from = 5 * p - 4 break end
  end
  local f, u, e, hu, he = st[from] + 1, st[from + 1], st[from + 2], st[from + 3], st[from + 4]
  local free = rules[r]
  if free ~= '0' and f >= tonumber(free) then
    now = now or tonumber(ARGV[1])
    local base, max, d = tonumber(rules[r + 1]), tonumber(rules[r + 2]), 0
    if base > 0 then -- as store.Rule.Delay, in ms
      d = base
      for _ = tonumber(free), f - 1 do
        if max > 0 and d >= max then break end
        if d > 4611686018427 then d = 9223372036854 break end -- saturate
        d = d * 2
      end
      if max > 0 and d > max then d = max end
    end
    u = now + d
  end
  -- The texts written: the count, the until and expiry instants, and the
  -- key's time to live (an expiry set now comes with both ready made).
  local fs = f == 1 and '1' or string.format('%.0f', f)
  local us = u and string.format('%.0f', u)
  local es, px = ARGV[o + 1], ARGV[o + 2]
  if es ~= '' then
    e = es -- compared no more: it only tells that the hash has an expiry
  elseif e then
    now = now or tonumber(ARGV[1])
    es, px = string.format('%.0f', e), string.format('%.0f', e - now + grace)
  end
  -- The hash is written in place: a field the new state lacks is removed
  -- only if the hash holds it (a forgotten state), and so is the expiry.
  if u and e then
    redis.call('HSET', k, 'n', fs, 'u', us, 'e', es)
  elseif u then
    redis.call('HSET', k, 'n', fs, 'u', us)
  elseif e then
    redis.call('HSET', k, 'n', fs, 'e', es)
  else
    redis.call('HSET', k, 'n', fs)
  end
  if not u and hu then redis.call('HDEL', k, 'u') end
  if e then
    redis.call('PEXPIRE', k, px)
  elseif he then
    redis.call('HDEL', k, 'e')
    redis.call('PERSIST', k)
  end
  st[s], st[s + 1], st[s + 2], st[s + 3], st[s + 4] = f, u, e, u ~= false, e ~= false
end
return {1, 0, 0}
`)

// advanceScript is the compare-and-set of a factor's counter. It names no
// function it does not call: Lua makes a closure for each on every run.
//
// KEYS: the factor, then counters to clear, then counters to forgive.
// ARGV: from, to, now, then what else to do as one number, 4 × the number
// of counters to clear + what to do with Data (0 keep it, 1 replace it
// with the value that follows, 2 remove it), then the Free of each
// counter to forgive. Every argument costs on every call (see hitScript),
// so the usual success sends four.
// Reply: 'ok', 'cf' (the counter is not from) or 'nf' (no factor).
var advanceScript = newEvalScript(`
local cur = redis.call('HGET', KEYS[1], 'counter') -- every factor has one
if not cur then return 'nf' end
if cur ~= ARGV[1] then return 'cf' end
local spec = tonumber(ARGV[4])
local data = spec % 4
local nreset = (spec - data) / 4
if data == 1 then
  redis.call('HSET', KEYS[1], 'counter', ARGV[2], 'last_used', ARGV[3], 'data', ARGV[5])
else
  redis.call('HSET', KEYS[1], 'counter', ARGV[2], 'last_used', ARGV[3])
  if data == 2 then redis.call('HDEL', KEYS[1], 'data') end
end
if nreset > 0 then redis.call('DEL', unpack(KEYS, 2, 1 + nreset)) end
if #KEYS > 1 + nreset then
` + luaForgive + `
  forgive(tonumber(ARGV[3]), 2 + nreset, data == 1 and 6 or 5)
end
return 'ok'
`)

// createFactorScript inserts a factor if its ID and lookup are free.
//
// KEYS: the factor, the user's factor index, the lookup (optional).
// ARGV: factor ID, user ID, then the factor's field-value pairs.
var createFactorScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 'ex' end
if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 1 then return 'ex' end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('SADD', KEYS[2], ARGV[1])
if KEYS[3] then redis.call('HSET', KEYS[3], 'user', ARGV[2], 'id', ARGV[1]) end
return 'ok'
`)

// claimScript takes a lookup for a factor (sharded stores only).
//
// KEYS: the lookup. ARGV: user ID, factor ID.
var claimScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 'ex' end
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'id', ARGV[2])
return 'ok'
`)

// releaseScript frees a lookup if it still names the given factor.
//
// KEYS: the lookup. ARGV: user ID, factor ID.
var releaseScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'user', 'id')
if v[1] == ARGV[1] and v[2] == ARGV[2] then redis.call('DEL', KEYS[1]) end
return 'ok'
`)

// updateFactorScript replaces the mutable fields of a factor.
//
// KEYS: the factor. ARGV: name, status, confirmed, secret, data.
var updateFactorScript = redis.NewScript(luaPut + `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'nf' end
put(KEYS[1], 'name', ARGV[1])
put(KEYS[1], 'status', ARGV[2])
put(KEYS[1], 'confirmed', ARGV[3])
put(KEYS[1], 'secret', ARGV[4])
put(KEYS[1], 'data', ARGV[5])
return 'ok'
`)

// deleteFactorScript removes a factor whose kind and lookup are as the
// caller read them ('retry' otherwise), and frees its lookup. Given a
// status, it removes the factor only while it has that status ('cf'
// otherwise), so an activation that ran first keeps the factor.
//
// KEYS: the factor, the user's factor index, the lookup (optional).
// ARGV: factor ID, kind, lookup, user ID, required status (empty: any).
var deleteFactorScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'kind', 'lookup', 'status')
if not v[1] then return 'nf' end
if ARGV[5] ~= '' and v[3] ~= ARGV[5] then return 'cf' end
if v[1] ~= ARGV[2] or (v[2] or '') ~= ARGV[3] then return 'retry' end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
if KEYS[3] then
  local l = redis.call('HMGET', KEYS[3], 'user', 'id')
  if l[1] == ARGV[4] and l[2] == ARGV[1] then redis.call('DEL', KEYS[3]) end
end
return 'ok'
`)

// putScript inserts a hash record with an expiry if its key is free.
//
// KEYS: the record. ARGV: expiry in ms, then field-value pairs.
var putScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 'ex' end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 'ok'
`)

// takeScript removes a hash record and returns it (empty if none).
//
// KEYS: the record.
var takeScript = redis.NewScript(`
local v = redis.call('HGETALL', KEYS[1])
if #v > 0 then redis.call('DEL', KEYS[1]) end
return v
`)

// createIndexedScript inserts a session or device if its ID is free and,
// unless the store is sharded, adds it to its user's index.
//
// KEYS: the record, the user's index (optional). ARGV: ID, Redis expiry in
// ms, index score, now (see luaIndexAdd), then field-value pairs.
// Reply: 'ex' if the ID is taken, else 'ok'.
var createIndexedScript = redis.NewScript(luaIndexAdd + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'ex' end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if KEYS[2] then index_add(KEYS[2], ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]) end
return 'ok'
`)

// indexAddScript adds a record to its user's index (sharded stores, before
// the record is created, so no record is ever missing from its index).
//
// KEYS: the index. ARGV: ID, Redis expiry in ms, index score, now.
var indexAddScript = redis.NewScript(luaIndexAdd + `
index_add(KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4])
return 'ok'
`)

// rotateScript rotates a session's refresh hash, or revokes the session
// when a retired hash comes back.
//
// KEYS: the session, its retired hashes. ARGV: now, old, new, data flag,
// data, idle expiry.
// Reply: {'ok', field, value, ...}, {'nf'} or {'ru'}.
var rotateScript = redis.NewScript(luaPut + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'nf'} end
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'refresh', 'revoked', 'idle_expires', 'expires')
local idle, exp = tonumber(v[3]), tonumber(v[4])
if v[2] or not idle or now >= idle or not exp or now >= exp then return {'nf'} end
local cur = v[1] or ''
if cur ~= '' and cur == ARGV[2] then
  redis.call('SADD', KEYS[2], cur)
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
  redis.call('HSET', KEYS[1], 'last_used', ARGV[1])
  put(KEYS[1], 'refresh', ARGV[3])
  put(KEYS[1], 'idle_expires', ARGV[6])
  if ARGV[4] == '1' then put(KEYS[1], 'data', ARGV[5]) end
  local r = {'ok'}
  local h = redis.call('HGETALL', KEYS[1])
  for i = 1, #h do r[#r + 1] = h[i] end
  return r
end
if ARGV[2] ~= '' and redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[1], 'revoked', '1')
  redis.call('DEL', KEYS[2])
  return {'ru'}
end
return {'nf'}
`)

// revokeScript revokes a session and forgets its retired hashes.
//
// KEYS: the session, its retired hashes. ARGV: user check flag, user ID.
// Reply: -1 unknown (or another user's), 0 already revoked, 1 revoked now.
var revokeScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'user', 'revoked')
if not v[1] then return -1 end
if ARGV[1] == '1' and v[1] ~= ARGV[2] then return -1 end
redis.call('DEL', KEYS[2])
if v[2] then return 0 end
redis.call('HSET', KEYS[1], 'revoked', '1')
return 1
`)

// deleteDeviceScript removes a device of the given user and, unless the
// store is sharded, its index entry.
//
// KEYS: the device, the user's device index (optional). ARGV: user ID,
// device ID. Reply: 1 deleted, 0 none.
var deleteDeviceScript = redis.NewScript(`
local u = redis.call('HGET', KEYS[1], 'user')
if not u or u ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if KEYS[2] then redis.call('ZREM', KEYS[2], ARGV[2]) end
return 1
`)
