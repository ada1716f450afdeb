--[[
  ack-and-fetch-2.lua: ack the jobs a runner finished, then fetch its next batch, in one call
  (Verk's LREM acks plus mrpop_lpush fetch, batched: one round trip per tick, not per job).

  KEYS[1]  queue:<q>                the queue; producers LPUSH at the head, we take from the tail
  KEYS[2]  inprogress:<q>:<node>    this node's in-progress list
  ARGV[1]  how many jobs to take at most (the runner's free slots; 0 = ack only)
  ARGV[2…] the exact bytes of each finished job, to LREM from KEYS[2] (count -1: from the tail,
           where the oldest fetched jobs are)

  Returns the moved payloads, oldest first, exactly as stored (possibly empty).

  Guarantee: each job is moved with LMOVE RIGHT LEFT inside the script, so at every instant it
  is in the queue or in the in-progress list, never only in the caller's memory; a job is acked
  only after the caller saw it finish. Payloads are opaque bytes: the script never decodes them.
]]
for i = 2, #ARGV do
  redis.call('LREM', KEYS[2], -1, ARGV[i])
end
local n = tonumber(ARGV[1])
local moved = {}
for i = 1, n do
  local job = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not job then break end
  moved[i] = job
end
return moved
