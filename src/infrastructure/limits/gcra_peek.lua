-- Read-only: Redis TIME in ticks, then the stored TAT (ticks) of each key, or nil where none is.
-- The arithmetic is domain.rate_policy.peek, run in Python on these numbers: the script writes
-- nothing and decides nothing, it only reads the state and the clock together.

local TICKS = 1048576  -- 2^20 per second, as in gcra.lua
local time = redis.call('TIME')
local replies = {tonumber(time[1]) * TICKS + math.floor(tonumber(time[2]) * TICKS / 1000000)}
for i = 1, #KEYS do
  replies[i + 1] = redis.call('GET', KEYS[i])  -- false (a nil reply) for an absent key
end
return replies
