--[[
  ack-and-fetch-5.lua: ack the jobs a runner finished, count them, then fetch its next batch, in
  one call (Verk's LREM acks plus mrpop_lpush fetch, batched: one round trip per tick, not per job).

  KEYS[1]  queue:<q>                the queue; taken from the end ARGV[5] names (producers push at the other)
  KEYS[2]  inprogress:<q>:<node>    this node's in-progress list
  KEYS[3]  stat:processed           Sidekiq's total processed counter
  KEYS[4]  stat:processed:<day>     Sidekiq's daily processed counter (UTC date); for a Resque
                                    worker, its per-worker `stat:processed:<worker id>`
  KEYS[5]  stat:processed:<q>       Verk's per-queue processed counter
  ARGV[1]  how many jobs to take at most (the runner's free and prefetch slots; 0 = ack only)
  ARGV[2]  INCRBY for KEYS[3] and KEYS[4]: jobs run since the last tick, failed ones included
           (0 = leave the counters alone)
  ARGV[3]  INCRBY for KEYS[5]: jobs that succeeded since the last tick (0 = leave it alone)
  ARGV[4]  TTL of KEYS[4] in seconds (Sidekiq keeps daily stats 5 years; 0 = no TTL, Resque's)
  ARGV[5]  the consuming end: 'R' the tail (Sidekiq, Verk, Exq: RPOP), 'L' the head (Resque: LPOP)
  ARGV[6…] the exact bytes of each finished job, to LREM from KEYS[2] (count -1: from the tail,
           where the oldest fetched jobs are)

  Returns the moved payloads, oldest first, exactly as stored (possibly empty).

  Guarantee: the jobs are popped from the queue's consuming end and pushed onto the in-progress list in
  the same atomic script, so at every instant a job is in the queue or in the in-progress list,
  never only in the caller's memory (the order in in-progress is what one LMOVE RIGHT LEFT per
  job gives); a job is acked only after the caller saw it finish. Payloads are opaque bytes:
  the script never decodes them.
]]
for i = 6, #ARGV do
  redis.call('LREM', KEYS[2], -1, ARGV[i])
end
local processed = tonumber(ARGV[2])
if processed > 0 then
  redis.call('INCRBY', KEYS[3], processed)
  redis.call('INCRBY', KEYS[4], processed)
  if tonumber(ARGV[4]) > 0 then
    redis.call('EXPIRE', KEYS[4], ARGV[4])
  end
end
local succeeded = tonumber(ARGV[3])
if succeeded > 0 then
  redis.call('INCRBY', KEYS[5], succeeded)
end
local n = tonumber(ARGV[1])
if n <= 0 then
  return {}
end
local moved = redis.call(ARGV[5] == 'L' and 'LPOP' or 'RPOP', KEYS[1], n)
if not moved then
  return {}
end
redis.call('LPUSH', KEYS[2], unpack(moved))
return moved
