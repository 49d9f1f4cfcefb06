/**
 * The Lua scripts of the Redis store (src/core/storage/redis.ts). Each runs atomically on the
 * server, so a record, its index entry, its version and its change notice are one step.
 *
 * Keys (prefix `authsome`; record keys never contain `#`, so the store's own keys cannot
 * collide with a record):
 * - `authsome:<key>`: a record (a string, as unstorage's redis driver wrote them before).
 * - `authsome#idx:<dir>`: the index, a hash per key prefix (`""` is the root): field
 *   `r:<name>` = the record `<dir>:<name>` with its version, `d:<name>` = a prefix with records.
 * - `authsome#version`: the store's version, incremented by every write (the change feed's
 *   counter: a watcher that missed notices sees it moved).
 * - `authsome#indexed`: set once the index covers records written before it existed.
 */

/**
 * A write or a removal, fenced. KEYS: record, version, the `depth` index hashes from the root
 * to the record's parent, then the lock keys the writer holds. ARGV: deadline (server ms, 0 =
 * none), "set" | "del", value, depth, lock count, channel, the key's segments, lock tokens.
 *
 * Refused (nothing written) when the server runs it after the deadline: a client that gave up
 * waiting (frozen server, SIGSTOP) reported a failure, so the write must not land later. Refused
 * as well when a lock the writer holds is no longer its own (it paused past the lock's TTL).
 */
export const WRITE_SCRIPT = `
local deadline = tonumber(ARGV[1])
if deadline > 0 then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > deadline then return {'late', 0} end
end
local depth = tonumber(ARGV[4])
local locks = tonumber(ARGV[5])
for i = 1, locks do
  if redis.call('GET', KEYS[2 + depth + i]) ~= ARGV[6 + depth + i] then return {'lost', i} end
end
if ARGV[2] == 'del' and redis.call('EXISTS', KEYS[1]) == 0 then return {'ok', 0} end
local version = redis.call('INCR', KEYS[2])
if ARGV[2] == 'set' then
  redis.call('SET', KEYS[1], ARGV[3])
  for i = 1, depth - 1 do redis.call('HSET', KEYS[2 + i], 'd:' .. ARGV[6 + i], 1) end
  redis.call('HSET', KEYS[2 + depth], 'r:' .. ARGV[6 + depth], version)
else
  redis.call('DEL', KEYS[1])
  redis.call('HDEL', KEYS[2 + depth], 'r:' .. ARGV[6 + depth])
  for i = depth, 2, -1 do
    if redis.call('EXISTS', KEYS[2 + i]) == 1 then break end
    redis.call('HDEL', KEYS[1 + i], 'd:' .. ARGV[5 + i])
  end
end
redis.call('PUBLISH', ARGV[6], KEYS[1] .. ' ' .. version)
return {'ok', version}
`;

/**
 * Every record key under a prefix, from the index: one round trip whatever the store's size.
 * KEYS: the `indexed` marker. ARGV: index prefix, record prefix, base (`""` or `a:b`).
 * Builds the index first when the store predates it (one SCAN, once per store).
 */
export const WALK_SCRIPT = `
local idx, rec, base = ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', KEYS[1]) == 0 then
  local cursor = '0'
  repeat
    local page = redis.call('SCAN', cursor, 'MATCH', rec .. '*', 'COUNT', 1000)
    cursor = page[1]
    for _, full in ipairs(page[2]) do
      local dir, rest = '', string.sub(full, #rec + 1)
      for part in string.gmatch(rest, '([^:]+):') do
        redis.call('HSET', idx .. dir, 'd:' .. part, 1)
        dir = (dir == '') and part or (dir .. ':' .. part)
      end
      redis.call('HSET', idx .. dir, 'r:' .. string.match(rest, '([^:]+)$'), 0)
    end
  until cursor == '0'
  redis.call('SET', KEYS[1], '1')
end
local out = {}
local function walk(dir)
  for _, field in ipairs(redis.call('HKEYS', idx .. dir)) do
    local name = string.sub(field, 3)
    local child = (dir == '') and name or (dir .. ':' .. name)
    if string.sub(field, 1, 2) == 'r:' then out[#out + 1] = child else walk(child) end
  end
end
walk(base)
return out
`;

/**
 * Takes a lock (`SET NX PX`) unless the server runs this after the deadline (server ms, as for
 * writes): an attempt the client gave up on must not take the lock later, when nobody would
 * renew or release it. KEYS: the lock. ARGV: owner, ttl ms, deadline. 1 taken, 0 held, -1 late.
 *
 * A lock already holding this owner value is this acquisition's own: ioredis resends a command
 * whose answer a reconnect cut off, and the first copy may have run (and been persisted) before
 * the server died. Answering 0 there made the holder wait for itself until its lock expired.
 */
export const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[3]) then return -1 end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** Compare-and-delete: only the holder's token releases a lock. */
export const RELEASE_SCRIPT = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/** Compare-and-extend: only the holder's token renews a lock; 0 tells the holder it lost it. */
export const RENEW_SCRIPT = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;

/**
 * Appends audit lines to a profile's stream if the chain's head is still the one the writer
 * linked them to (compare-and-append: no lock, a writer that lost the race relinks and retries).
 * KEYS: stream, head. ARGV: expected head JSON ("" = none yet), new head JSON, lines...
 * Returns {1} on success, {0, current head} when another machine appended first.
 */
export const AUDIT_APPEND_SCRIPT = `
local head = redis.call('GET', KEYS[2]) or ''
if head ~= ARGV[1] then return {0, head} end
for i = 3, #ARGV do redis.call('XADD', KEYS[1], '*', 'e', ARGV[i]) end
redis.call('SET', KEYS[2], ARGV[2])
return {1, ''}
`;
