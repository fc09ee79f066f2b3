-- RedisWindowStore, step (1): which of the batch's events were already applied, and the stored
-- state of every scope the batch names, in one round trip. Read-only.
-- KEYS: the live dedupe buckets (oldest first), then the scope keys.
-- ARGV: the number of buckets, then the batch's dedupe ids packed end to end (idWidth characters
-- each: one argument instead of thousands).
-- Returns {1-based indexes of ids already marked, values of the scope keys, SCARD of each bucket}.
-- unpack() goes in chunks: Lua's C stack holds ~8000 values.
local bucketCount = tonumber(ARGV[1])
local packedIds = ARGV[2]
local idWidth = tonumber(ARGV[3])

local CHUNK = 4000
local ids = {}
local seen = {}
local cards = {}
for k = 1, bucketCount do
  local card = redis.call('SCARD', KEYS[k])
  cards[k] = card
  if card > 0 and #packedIds > 0 then
    if #ids == 0 then
      for i = 1, #packedIds / idWidth do
        ids[i] = string.sub(packedIds, (i - 1) * idWidth + 1, i * idWidth)
      end
    end
    for s = 1, #ids, CHUNK do
      local flags = redis.call('SMISMEMBER', KEYS[k], unpack(ids, s, math.min(s + CHUNK - 1, #ids)))
      for i = 1, #flags do
        if flags[i] == 1 then seen[#seen + 1] = s + i - 1 end
      end
    end
  end
end
local values = {}
for s = bucketCount + 1, #KEYS, CHUNK do
  local chunk = redis.call('MGET', unpack(KEYS, s, math.min(s + CHUNK - 1, #KEYS)))
  for i = 1, #chunk do values[#values + 1] = chunk[i] end
end
return {seen, values, cards}
