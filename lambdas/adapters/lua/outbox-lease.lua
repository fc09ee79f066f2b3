-- RedisWindowStore.drainOutbox: takes the first entries of the outbox under a lease.
-- KEYS: lease, outbox. Returns the entries, an empty list (no lease taken) when the outbox is
-- empty, or false when another drainer holds the lease.
local token = ARGV[1]
local leaseMs = ARGV[2]
local count = tonumber(ARGV[3])

local leaseKey = KEYS[1]
local outboxKey = KEYS[2]
if redis.call('LLEN', outboxKey) == 0 then return {} end
if not redis.call('SET', leaseKey, token, 'NX', 'PX', leaseMs) then return false end
return redis.call('LRANGE', outboxKey, 0, count - 1)
