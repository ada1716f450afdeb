--[[
  list-fail-4.lua: record a failed (or unreadable) job in a failure list (Resque's `failed`) and
  remove it from in-progress, atomically, counting it as Resque's worker does (the `failed-list`
  failure destination).

  KEYS[1]  inprogress:<q>:<node>         where the job was fetched into
  KEYS[2]  failed                        Resque's failure list (RPUSH, as Failure::Redis#save)
  KEYS[3]  stat:failed                   Resque's total failed counter
  KEYS[4]  stat:failed:<worker id>       the worker's own failed counter
  ARGV[1]  the exact fetched bytes (what LREM must name)
  ARGV[2]  the failure entry (built by the consumer's dialect, src/wire/dialects/resque.ts)

  Returns 1 when recorded, 0 when the job was no longer in the in-progress list (another node
  gave it back to its queue; recording it too would both fail and re-run it).

  Guarantee: the job leaves in-progress and its failure entry enters `failed` in one step, so it
  is never lost and never in both. `stat:processed` is counted with the acks (ack-and-fetch-5),
  as Resque counts a failed job as processed too. Payloads are opaque: nothing is decoded here.
]]
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('INCRBY', KEYS[3], 1)
redis.call('INCRBY', KEYS[4], 1)
return 1
