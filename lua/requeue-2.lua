--[[
  requeue-2.lua: give in-progress jobs back to their queue (Verk's lpop_rpush semantics).

  KEYS[1]  inprogress:<q>:<node>    the in-progress list to empty
  KEYS[2]  queue:<q>                the queue they came from
  ARGV[1]  batch size (the caller repeats until the remaining count is 0)
  ARGV[2]  the queue's consuming end: 'R' the tail (RPUSH; Sidekiq, Verk, Exq), 'L' the head
           (LPUSH; Resque)

  Returns { remaining, moved }: the in-progress length left after this batch, and how many
  jobs this call moved.

  Guarantee: the batch is pushed to the consuming end of the queue (so recovered jobs run
  next, oldest first) and trimmed off the in-progress list in one atomic step; the bytes are
  unchanged and nothing counts as a failure. Two nodes recovering the same list never
  duplicate a job.
]]
local n = tonumber(ARGV[1])
local jobs = redis.call('LRANGE', KEYS[1], 0, n - 1)
local moved = #jobs
if moved > 0 then
  redis.call(ARGV[2] == 'L' and 'LPUSH' or 'RPUSH', KEYS[2], unpack(jobs))
  redis.call('LTRIM', KEYS[1], moved, -1)
end
return { redis.call('LLEN', KEYS[1]), moved }
