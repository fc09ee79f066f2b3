-- RedisRegistryCache compare-and-delete: a key goes only if it still holds exactly what the
-- snapshot saw, all keys in ONE script, so a concurrent HSET keeps that key.
-- KEYS: the keys. ARGV, per key in order: 'hash' n f1 v1 .. fn vn | 'string' v | 'set' member.
-- Deletes (UNLINK, SREM) only what still matches; replies {deleted indexes, changed indexes}.
local deleted, changed = {}, {}
local a = 1
for i, k in ipairs(KEYS) do
  local kind = ARGV[a]
  a = a + 1
  local t = redis.call('TYPE', k)['ok']
  local same = false
  if kind == 'hash' then
    local n = tonumber(ARGV[a])
    local first = a + 1
    a = first + 2 * n
    if t == 'hash' and redis.call('HLEN', k) == n then
      same = true
      for j = 0, n - 1 do
        if redis.call('HGET', k, ARGV[first + 2 * j]) ~= ARGV[first + 2 * j + 1] then
          same = false
          break
        end
      end
    end
    if same then redis.call('UNLINK', k) end
  elseif kind == 'string' then
    local v = ARGV[a]
    a = a + 1
    if t == 'string' and redis.call('GET', k) == v then
      same = true
      redis.call('UNLINK', k)
    end
  else
    local m = ARGV[a]
    a = a + 1
    if t == 'set' and redis.call('SISMEMBER', k, m) == 1 then
      same = true
      redis.call('SREM', k, m)
    end
  end
  if same then deleted[#deleted + 1] = i else changed[#changed + 1] = i end
end
return {deleted, changed}
