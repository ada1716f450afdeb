--[[
  promote-3.lua: move one due scheduled/retry job to its queue (compare and move).

  KEYS[1]  schedule or retry        the sorted set holding the job
  KEYS[2]  queue:<q>                the job's queue
  KEYS[3]  queues                   Sidekiq's set of queue names
  ARGV[1]  the exact member bytes as read from KEYS[1]
  ARGV[2]  the bytes to enqueue (computed by the engine: enqueued_at updated)
  ARGV[3]  the queue name to SADD to KEYS[3] ('' = leave the set alone, as Verk does)

  Returns 1 when the job moved, 0 when the member was already gone.

  Guarantee: the new bytes are pushed only if this call removed the old member, so two
  schedulers racing over the same set never enqueue a job twice. Nothing is decoded here.
]]
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('LPUSH', KEYS[2], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('SADD', KEYS[3], ARGV[3])
end
return 1
