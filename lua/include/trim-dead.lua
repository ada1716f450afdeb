--[[
  include/trim-dead.lua: the dead-set trim, written once for every script that adds to dead.
  Not a script of its own: a script's `--@include trim-dead.lua` line is replaced by this text
  when the scripts are loaded (src/engine/scripts.ts); the script's sha is over the result.

  Defines trim_dead(dead, below, keep). It takes no KEYS or ARGV of its own: the including
  script passes them.
    dead   the dead set's key: always one of the including script's KEYS
    below  remove the entries scored below this (float seconds, as a string)
    keep   then keep only this many newest entries (an integer ≥ 1, number or string)

  Guarantee: touches `dead` only, removes only what is older than `below` or beyond the newest
  `keep`; members are opaque: nothing is decoded.
]]
local function trim_dead(dead, below, keep)
  redis.call('ZREMRANGEBYSCORE', dead, '-inf', '(' .. below)
  redis.call('ZREMRANGEBYRANK', dead, 0, -(tonumber(keep) + 1))
end
