--[[
  fail-2.lua: record a failed (or undecodable) job and remove it from in-progress, atomically.

  KEYS[1]  inprogress:<q>:<node>    where the job was fetched into
  KEYS[2]  retry or dead            the sorted set that receives the entry
  ARGV[1]  the exact fetched bytes (what LREM must name)
  ARGV[2]  the entry to add (the retry/dead payload computed by the engine; for an undecodable
           payload, the Kiqgate::UndecodablePayload job hash that carries its exact bytes)
  ARGV[3]  its score (float seconds as a string)
  ARGV[4]  dead trim: remove entries scored below this ('' = no trim, i.e. a retry)
  ARGV[5]  dead trim: keep only this many newest entries

  Returns 1 when the job was recorded, 0 when it was no longer in the in-progress list
  (another node already gave it back to its queue; recording it too would duplicate it).

  Guarantee: the job leaves in-progress and enters retry/dead in one step, so it is never
  lost and never in both places. Payloads are opaque: nothing is decoded here.
  The dead trim is include/trim-dead.lua's, the same as bury-2.lua's.
]]
--@include trim-dead.lua
-- A score Redis would refuse fails here, before the LREM: a script error does not roll back the
-- writes made before it, so a ZADD error after the LREM would lose the job (it stays in
-- in-progress instead, for the audit).
local score = tonumber(ARGV[3])
if score == nil or score ~= score or score == math.huge or score == -math.huge then
  return redis.error_reply('fail-2: not a finite score: ' .. tostring(ARGV[3]))
end
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
if ARGV[4] ~= '' then
  trim_dead(KEYS[2], ARGV[4], ARGV[5])
end
return 1
