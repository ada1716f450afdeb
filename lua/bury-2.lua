--[[
  bury-2.lua: move an undecodable member of schedule/retry to dead, as the entry that keeps it.

  KEYS[1]  schedule or retry        the sorted set holding the member
  KEYS[2]  dead                     the dead set
  ARGV[1]  the exact member bytes
  ARGV[2]  the dead entry: the Kiqgate::UndecodablePayload job hash carrying those bytes
  ARGV[3]  the dead score (float seconds as a string)
  ARGV[4]  dead trim: remove entries scored below this
  ARGV[5]  dead trim: keep only this many newest entries

  Returns 1 when moved, 0 when the member was already gone.

  Guarantee: compare and move, like promote-3: a member no scheduler can read is never lost
  and never stuck at the head of the set, and two schedulers never bury it twice.
  The dead trim is include/trim-dead.lua's, the same as fail-2.lua's.
]]
--@include trim-dead.lua
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
trim_dead(KEYS[2], ARGV[4], ARGV[5])
return 1
