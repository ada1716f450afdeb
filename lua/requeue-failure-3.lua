--[[
  requeue-failure-3.lua: requeue one entry of a failure list (Resque::Failure.requeue), only if
  the entry is still there (compare and move).

  KEYS[1]  failed                   the failure list
  KEYS[2]  queue:<q>                the entry's queue
  KEYS[3]  queues                   the set of queue names
  ARGV[1]  the exact entry bytes as read from KEYS[1]
  ARGV[2]  the entry as it stays in the list (with retried_at; computed by the caller)
  ARGV[3]  the job to push (`{"class","args"}`; computed by the caller)
  ARGV[4]  the queue name to SADD to KEYS[3]

  Returns 1 when requeued, 0 when no entry equal to ARGV[1] was left (deleted or requeued by
  someone else since it was read).

  Guarantee: the job is pushed only if the exact entry was found, and the entry is replaced in
  the same atomic step, so two operators requeueing the same entry push the job once. As
  Resque's enqueue, the job goes to the tail (RPUSH) and the entry stays in the list. Nothing
  is decoded here.
]]
local i = redis.call('LPOS', KEYS[1], ARGV[1])
if not i then
  return 0
end
redis.call('LSET', KEYS[1], i, ARGV[2])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('RPUSH', KEYS[2], ARGV[3])
return 1
