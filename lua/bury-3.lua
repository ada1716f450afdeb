--[[
  bury-3.lua: move an undecodable member of schedule/retry to dead, bytes unchanged.

  KEYS[1]  schedule or retry        the sorted set holding the member
  KEYS[2]  dead                     the dead set
  KEYS[3]  kiqgate:dead_errors      hash: why the payload went to dead
  ARGV[1]  the exact member bytes
  ARGV[2]  the dead score (float seconds as a string)
  ARGV[3]  dead trim: remove entries scored below this
  ARGV[4]  dead trim: keep only this many newest entries
  ARGV[5]  dead_errors field: sha1 hex of the bytes
  ARGV[6]  dead_errors value: JSON {error_message, error_class, failed_at}

  Returns 1 when moved, 0 when the member was already gone.

  Guarantee: compare and move, like promote-3: a member no scheduler can read is never lost
  and never stuck at the head of the set, and two schedulers never bury it twice.
]]
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
-- Trimmed entries take their dead_errors record with them (as in fail-3.lua).
local keep = tonumber(ARGV[4])
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
local over = redis.call('ZRANGE', KEYS[2], 0, -(keep + 1))
for _, m in ipairs(#over > #old and over or old) do redis.call('HDEL', KEYS[3], redis.sha1hex(m)) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(keep + 1))
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
end
return 1
