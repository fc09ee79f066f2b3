-- RedisWindowStore, step (3): compare-and-set of every scope the batch read, then the writes, the
-- deadline index, the dedupe markers and the findings outbox, all or nothing.
-- KEYS: deadlines, outbox, the scope keys, the dedupe buckets (the last is the current one).
-- ARGV (see the named locals below): the counts and TTLs, the bucket cardinalities as the read
-- saw them, then five per scope (expected write token, op, value, deadline, TTL ms), then the
-- outbox entries, then the dedupe ids packed as in window-read.lua.
-- Ops: 'write' = write the value and index its deadline, 'delete' = delete and unindex,
-- 'index' = keep the value and index its deadline, 'check' = only check the write token.
-- Nothing is written unless every token is as read and no id was marked meanwhile: the reply is
-- {0, what moved}, else {1, outbox length after the write}. Markers are only ever added to a
-- bucket (or the whole bucket expires), so a bucket whose cardinality is as read holds no new
-- marker: only a bucket that changed is searched for the batch's ids again.
local scopeCount = tonumber(ARGV[1])
local bucketCount = tonumber(ARGV[2])
local indexTtlMs = tonumber(ARGV[3])
local bucketTtlMs = tonumber(ARGV[4])
local outboxTtlSeconds = ARGV[5]
local findingCount = tonumber(ARGV[6])
local prefixBytes = tonumber(ARGV[7])
local idWidth = tonumber(ARGV[8])
local HEAD = 8
local SCOPE_ARGS = 5
local firstFinding = HEAD + bucketCount + scopeCount * SCOPE_ARGS + 1
local packedIds = ARGV[firstFinding + findingCount]

local deadlinesKey = KEYS[1]
local outboxKey = KEYS[2]
local CHUNK = 4000

local function bucketCard(k) return tonumber(ARGV[HEAD + k]) end
local function scopeKey(i) return KEYS[2 + i] end
local function bucketKey(k) return KEYS[2 + scopeCount + k] end
local function scope(i)
  local at = HEAD + bucketCount + (i - 1) * SCOPE_ARGS
  return {
    expected = ARGV[at + 1],
    op = ARGV[at + 2],
    value = ARGV[at + 3],
    deadline = ARGV[at + 4],
    ttlMs = ARGV[at + 5],
  }
end

local idCount = #packedIds / idWidth
local ids = nil
local function splitIds()
  if ids == nil then
    ids = {}
    for i = 1, idCount do ids[i] = string.sub(packedIds, (i - 1) * idWidth + 1, i * idWidth) end
  end
  return ids
end

-- 1. every scope's write token is as read
for s = 1, scopeCount, CHUNK do
  local e = math.min(s + CHUNK - 1, scopeCount)
  local values = redis.call('MGET', unpack(KEYS, 2 + s, 2 + e))
  for i = s, e do
    local current = values[i - s + 1]
    local token = ''
    if current then token = string.match(current, '^{"v":"([^"]*)"') or '?' end
    if token ~= scope(i).expected then return {0, scopeKey(i)} end
  end
end

-- 2. no id of the batch was marked since the read
if idCount > 0 then
  for k = 1, bucketCount do
    local bucket = bucketKey(k)
    if redis.call('SCARD', bucket) ~= bucketCard(k) then
      splitIds()
      for s = 1, idCount, CHUNK do
        local flags = redis.call('SMISMEMBER', bucket, unpack(ids, s, math.min(s + CHUNK - 1, idCount)))
        for i = 1, #flags do
          if flags[i] == 1 then return {0, bucket} end
        end
      end
    end
  end
end

-- 3. the scopes and their deadlines
local zadd = {}
local zrem = {}
for i = 1, scopeCount do
  local s = scope(i)
  if s.op == 'write' then
    redis.call('SET', scopeKey(i), s.value, 'PX', s.ttlMs)
  elseif s.op == 'delete' then
    redis.call('DEL', scopeKey(i))
  end
  if s.op ~= 'check' then
    local member = string.sub(scopeKey(i), prefixBytes + 1)
    if s.deadline == '' then
      zrem[#zrem + 1] = member
    else
      zadd[#zadd + 1] = s.deadline
      zadd[#zadd + 1] = member
    end
  end
end
for s = 1, #zadd, CHUNK do
  redis.call('ZADD', deadlinesKey, unpack(zadd, s, math.min(s + CHUNK - 1, #zadd)))
end
for s = 1, #zrem, CHUNK do
  redis.call('ZREM', deadlinesKey, unpack(zrem, s, math.min(s + CHUNK - 1, #zrem)))
end
if indexTtlMs > 0 and redis.call('PTTL', deadlinesKey) < indexTtlMs then
  redis.call('PEXPIRE', deadlinesKey, indexTtlMs)
end

-- 4. the batch's dedupe markers, in the current bucket
if idCount > 0 then
  local current = bucketKey(bucketCount)
  splitIds()
  for s = 1, idCount, CHUNK do
    redis.call('SADD', current, unpack(ids, s, math.min(s + CHUNK - 1, idCount)))
  end
  if redis.call('PTTL', current) < bucketTtlMs then
    redis.call('PEXPIRE', current, bucketTtlMs)
  end
end

-- 5. the findings, into the outbox
for k = firstFinding, firstFinding + findingCount - 1 do
  redis.call('RPUSH', outboxKey, ARGV[k])
end
if findingCount > 0 then redis.call('EXPIRE', outboxKey, outboxTtlSeconds) end
return {1, redis.call('LLEN', outboxKey)}
