--[[
  fail-3.lua: record a failed (or undecodable) job and remove it from in-progress, atomically.

  KEYS[1]  inprogress:<q>:<node>    where the job was fetched into
  KEYS[2]  retry or dead            the sorted set that receives the entry
  KEYS[3]  kiqgate:dead_errors      hash: why an undecodable payload went to dead
  ARGV[1]  the exact fetched bytes (what LREM must name)
  ARGV[2]  the entry to add (the retry/dead payload computed by the engine; the raw bytes
           themselves for an undecodable payload)
  ARGV[3]  its score (float seconds as a string)
  ARGV[4]  dead trim: remove entries scored below this ('' = no trim, i.e. a retry)
  ARGV[5]  dead trim: keep only this many newest entries
  ARGV[6]  dead_errors field ('' = none): sha1 hex of the raw bytes
  ARGV[7]  dead_errors value: JSON {error_message, error_class, failed_at}

  Returns 1 when the job was recorded, 0 when it was no longer in the in-progress list
  (another node already gave it back to its queue; recording it too would duplicate it).

  Guarantee: the job leaves in-progress and enters retry/dead in one step, so it is never
  lost and never in both places; entries trimmed from dead take their dead_errors record with
  them (the hash never outgrows the set). Payloads are opaque: nothing is decoded here.
]]
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
if ARGV[4] ~= '' then
  -- The dead_errors records of the entries trimmed go with them (field = sha1 of the bytes).
  -- Both trims remove a prefix of the set in score order, so the longer prefix is all of it.
  local keep = tonumber(ARGV[5])
  if redis.call('EXISTS', KEYS[3]) == 1 then
    local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])
    local over = redis.call('ZRANGE', KEYS[2], 0, -(keep + 1))
    for _, m in ipairs(#over > #old and over or old) do redis.call('HDEL', KEYS[3], redis.sha1hex(m)) end
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(keep + 1))
end
if ARGV[6] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  redis.call('HSET', KEYS[3], ARGV[6], ARGV[7])
end
return 1
