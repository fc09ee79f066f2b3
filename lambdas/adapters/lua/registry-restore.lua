-- RedisRegistryCache restore: snapshots written back, all or nothing on a conflict.
-- KEYS: the keys. ARGV[1]: '1' to overwrite different content, '0' not to, 'c' to only report
-- conflicts (write nothing). Then per key: the compare-and-delete layout followed by the pttl.
-- Writes nothing when a key conflicts and force is off.
-- Replies {ok, restored, unchanged, conflicts} (1-based indexes).
local force = ARGV[1] == '1'
local a = 2
local plan = {}
local conflicts = {}
for i, k in ipairs(KEYS) do
  local e = {kind = ARGV[a], t = redis.call('TYPE', k)['ok']}
  a = a + 1
  if e.kind == 'hash' then
    e.n = tonumber(ARGV[a])
    e.first = a + 1
    a = e.first + 2 * e.n
    local same = e.t == 'hash' and redis.call('HLEN', k) == e.n
    if same then
      for j = 0, e.n - 1 do
        if redis.call('HGET', k, ARGV[e.first + 2 * j]) ~= ARGV[e.first + 2 * j + 1] then
          same = false
          break
        end
      end
    end
    if e.t == 'none' then e.state = 'absent' elseif same then e.state = 'same' else e.state = 'different' end
  elseif e.kind == 'string' then
    e.v = ARGV[a]
    a = a + 1
    if e.t == 'none' then e.state = 'absent'
    elseif e.t == 'string' and redis.call('GET', k) == e.v then e.state = 'same'
    else e.state = 'different' end
  else
    e.m = ARGV[a]
    a = a + 1
    if e.t == 'none' then e.state = 'absent'
    elseif e.t ~= 'set' then e.state = 'different'
    elseif redis.call('SISMEMBER', k, e.m) == 1 then e.state = 'same'
    else e.state = 'absent' end
  end
  e.pttl = tonumber(ARGV[a])
  a = a + 1
  plan[i] = e
  if e.state == 'different' then conflicts[#conflicts + 1] = i end
end
if ARGV[1] == 'c' then
  if #conflicts > 0 then return {0, {}, {}, conflicts} end
  return {1, {}, {}, {}}
end
if #conflicts > 0 and not force then return {0, {}, {}, conflicts} end
local restored, unchanged = {}, {}
for i, k in ipairs(KEYS) do
  local e = plan[i]
  if e.state == 'same' then
    unchanged[#unchanged + 1] = i
  else
    if e.kind == 'hash' then
      if e.state == 'different' then redis.call('DEL', k) end
      for j = 0, e.n - 1 do redis.call('HSET', k, ARGV[e.first + 2 * j], ARGV[e.first + 2 * j + 1]) end
      if e.pttl > 0 then redis.call('PEXPIRE', k, e.pttl) end
    elseif e.kind == 'string' then
      if e.pttl > 0 then redis.call('SET', k, e.v, 'PX', e.pttl) else redis.call('SET', k, e.v) end
    else
      if e.t ~= 'set' and e.t ~= 'none' then redis.call('DEL', k) end
      redis.call('SADD', k, e.m)
      if e.t ~= 'set' and e.pttl > 0 then redis.call('PEXPIRE', k, e.pttl) end
    end
    restored[#restored + 1] = i
  end
end
return {1, restored, unchanged, conflicts}
