-- A batch of spend additions, applied atomically and at most once per batch id.
--
-- KEYS[1]: the batch's marker; KEYS[1 + i]: counter i.
-- ARGV[1]: how long the marker lives, in seconds; ARGV[2i], ARGV[2i + 1]: micros and TTL of counter i.
-- Returns 1 when applied, 0 when this batch id was applied before (a resent batch: nothing to do).
--
-- A sender whose reply timed out cannot know whether the batch ran, so it sends it again under
-- the same id: the marker makes that second run a no-op, and the script makes "ran" all or nothing.

if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return 0
end
for i = 2, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[2 * i - 2])
  redis.call('EXPIRE', KEYS[i], ARGV[2 * i - 1])
end
return 1
