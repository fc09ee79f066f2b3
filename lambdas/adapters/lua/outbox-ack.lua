-- RedisWindowStore.drainOutbox: removes the published entries and gives the lease back.
-- KEYS: lease, outbox. ARGV: the lease token, then the published entries in order.
-- Entries only leave from the head and are unique, so popping each one that is still at the head
-- removes exactly the published ones, even if another drainer already removed some of them.
local token = ARGV[1]
local FIRST_ENTRY = 2

local leaseKey = KEYS[1]
local outboxKey = KEYS[2]
local popped = 0
for i = FIRST_ENTRY, #ARGV do
  if redis.call('LINDEX', outboxKey, 0) == ARGV[i] then
    redis.call('LPOP', outboxKey)
    popped = popped + 1
  end
end
if redis.call('GET', leaseKey) == token then redis.call('DEL', leaseKey) end
return popped
