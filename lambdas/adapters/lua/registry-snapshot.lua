-- RedisRegistryCache snapshot: what each key holds, read in one script (one consistent view).
-- KEYS: the keys. ARGV[i]: the member for a set-member ref, else ''.
-- Reply per key: {type, pttl, content} (HGETALL pairs, the string, or SISMEMBER 0/1).
local out = {}
for i, k in ipairs(KEYS) do
  local t = redis.call('TYPE', k)['ok']
  local pttl = redis.call('PTTL', k)
  if t == 'hash' then
    out[i] = {t, pttl, redis.call('HGETALL', k)}
  elseif t == 'string' then
    out[i] = {t, pttl, redis.call('GET', k)}
  elseif t == 'set' then
    out[i] = {t, pttl, redis.call('SISMEMBER', k, ARGV[i])}
  else
    out[i] = {t, pttl, 0}
  end
end
return out
