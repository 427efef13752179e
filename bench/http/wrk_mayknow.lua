-- wrk script for the mayknow HTTP benchmark (driven by bench/http/run.py).
--   wrk ... -s wrk_mayknow.lua URL -- <health|me|follow> [accounts-file]
-- The accounts file holds "user_id token" lines. "me" calls GET /v1/me with a random
-- member's bearer token; "follow" has a random member follow another random member
-- (POST /v1/follows/{id}, idempotent). At the end one line "BENCHJSON {...}" is printed.

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or "health"
  ids, tokens, n = {}, {}, 0
  statuses = {}
  if args[2] then
    for line in io.lines(args[2]) do
      local uid, tok = line:match("^(%d+) (%S+)$")
      if uid then
        n = n + 1
        ids[n] = uid -- kept as a string: ids are near 2^53 and must not turn into floats
        tokens[n] = tok
      end
    end
  end
  if mode ~= "health" and n < 2 then
    error("mode " .. mode .. " needs at least 2 accounts")
  end
  math.randomseed(os.time() * 100 + id)
end

function request()
  if mode == "health" then
    return wrk.format("GET", "/v1/health")
  end
  local i = math.random(n)
  local auth = { ["Authorization"] = "Bearer " .. tokens[i] }
  if mode == "me" then
    return wrk.format("GET", "/v1/me", auth)
  end
  local j = math.random(n - 1)
  if j >= i then j = j + 1 end
  return wrk.format("POST", "/v1/follows/" .. ids[j], auth, "")
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses") or {}
    for status, count in pairs(counts) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%d":%d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d},"latency_us":{"min":%d,"mean":%.1f,' ..
    '"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    table.concat(parts, ",")))
end
