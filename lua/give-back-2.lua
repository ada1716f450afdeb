--[[
  give-back-2.lua: give jobs stranded in a live node's in-progress list back to their queue,
  each only if it is still there (compare and move, never a blind move).

  KEYS[1]  inprogress:<q>:<node>    this node's in-progress list
  KEYS[2]  queue:<q>                the queue the jobs came from
  ARGV[1]  the queue's consuming end: 'R' the tail (RPUSH), 'L' the head (LPUSH; Resque)
  ARGV[2…] the exact bytes of each stranded entry, newest first (LRANGE order); an entry named
           twice is given back twice only if the list holds it twice

  Returns how many entries were moved.

  Guarantee: each entry leaves the in-progress list and enters the consuming end of the queue
  (so it runs next, the oldest first) in one atomic step, bytes unchanged. An entry no longer
  in the list (acked meanwhile, failed into retry/dead, or given back by a peer that took this
  node for dead) is skipped, so no job is ever duplicated by this script.
]]
local moved = 0
local push = ARGV[1] == 'L' and 'LPUSH' or 'RPUSH'
for i = 2, #ARGV do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) == 1 then
    redis.call(push, KEYS[2], ARGV[i])
    moved = moved + 1
  end
end
return moved
