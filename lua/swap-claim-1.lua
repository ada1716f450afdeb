--[[
  swap-claim-1.lua: compare and set (or delete) a node-id claim, so a claim changes hands only
  from the holder its caller saw.

  KEYS[1]  kiqgate:node-claim:<node>   who runs the worker with this fixed node id
  ARGV[1]  the value the caller expects there ('' = no claim)
  ARGV[2]  the new value ('' = delete the claim)
  ARGV[3]  its time to live in ms (when setting)

  Returns the claim found there ('' = none): the swap happened exactly when that equals ARGV[1],
  and otherwise the caller learns the holder without a read of its own.

  Guarantee: two processes taking over the same stale claim (a crashed predecessor's) cannot
  both win; refreshing or releasing a claim never touches another holder's.
]]
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then
  return current
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return current
