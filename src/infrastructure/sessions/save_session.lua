-- Writes a session and indexes it under its account, atomically.
-- KEYS[1] the session's key, KEYS[2] the account's index (a sorted set: session id -> expiry in ms)
-- ARGV[1] the session as JSON, ARGV[2] its expiry (ms since the epoch), ARGV[3] its id, ARGV[4] now (ms),
-- ARGV[5] "touch" to write only a session that still exists (a touch must never bring back a
-- session that was signed out meanwhile), anything else to create it.
if ARGV[5] == 'touch' and redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
-- The index lives as long as the account's longest-lived session.
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if #last == 0 then
  return 1  -- the session itself was past its expiry: nothing left to index
end
redis.call('PEXPIREAT', KEYS[2], last[2])
return 1
