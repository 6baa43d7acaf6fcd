-- GCRA, all or nothing over several keys, in one round trip.
-- A transliteration of domain.rate_policy.gcra / decide_all: read that first.
--
-- KEYS[i]: the TAT of check i, stored as a whole number of ticks (2^-20 s) of Redis TIME.
-- ARGV[3i-2], ARGV[3i-1], ARGV[3i]: limit, window in ticks, cost of check i (integers).
-- ARGV[3n+1], optional: now in ticks, instead of Redis TIME (for the tests that compare the
-- script with the Python arithmetic).
-- Returns, per check: {allowed (0/1), remaining, reset_after, retry_after}, both durations in
-- ticks. Every value is an integer below 2^53, exact in Lua's doubles and in Redis's integer
-- replies, so nothing is truncated on the way back.
--
-- The clock is Redis TIME, so every gateway process agrees on it. Calling TIME before writing is
-- fine since Redis 5, which replicates a script by its effects.

local TICKS = 1048576  -- 2^20 per second
local n = #KEYS
local now
if #ARGV > 3 * n then
  now = tonumber(ARGV[3 * n + 1])  -- tests only: decide at a given instant, in ticks
else
  local time = redis.call('TIME')
  now = tonumber(time[1]) * TICKS + math.floor(tonumber(time[2]) * TICKS / 1000000)
end

local replies = {}
local new_tats = {}
local all_allowed = true

for i = 1, n do
  local limit = tonumber(ARGV[3 * i - 2])
  local window = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local interval = math.max(1, math.floor(window / limit))
  local tolerance = interval * limit
  local tat = tonumber(redis.call('GET', KEYS[i]))
  local base = now
  if tat ~= nil and tat >= now then
    base = tat
  end
  local new_tat = base + cost * interval
  local allow_at = new_tat - tolerance
  if now < allow_at then
    all_allowed = false
    local remaining = math.max(0, math.floor((tolerance - (base - now)) / interval))
    replies[i] = {0, remaining, base - now, allow_at - now}
  else
    local remaining = math.max(0, math.floor((tolerance - (new_tat - now)) / interval))
    replies[i] = {1, remaining, new_tat - now, 0}
    new_tats[i] = new_tat
  end
end

if all_allowed then
  for i = 1, n do
    -- The key vanishes once its TAT has passed: an absent key is the same state as a stale TAT.
    local ttl_ms = math.ceil((new_tats[i] - now) * 1000 / TICKS)
    redis.call('SET', KEYS[i], string.format('%.0f', new_tats[i]), 'PX', string.format('%.0f', ttl_ms))
  end
end

return replies
