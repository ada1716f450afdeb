--[[
  fetch-2.lua: reliable batch fetch (Verk's mrpop_lpush, one call for many jobs).

  KEYS[1]  queue:<q>                the queue; producers LPUSH at the head, we take from the tail
  KEYS[2]  inprogress:<q>:<node>    this node's in-progress list
  ARGV[1]  how many jobs to take at most (the runner's free slots)

  Returns the moved payloads, oldest first, exactly as stored (possibly empty).

  Guarantee: each job is moved with LMOVE RIGHT LEFT inside one script, so at every instant
  it is either in the queue or in the in-progress list, never only in the caller's memory.
  Payloads are opaque bytes: the script never decodes them.
]]
local n = tonumber(ARGV[1])
local moved = {}
for i = 1, n do
  local job = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not job then break end
  moved[i] = job
end
return moved
