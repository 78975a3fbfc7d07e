-- wrk script: POST a body of N events to /webhook with the ingest key (args: KEY N).
local body, headers

function init(args)
  local count = tonumber(args[2] or "1")
  local events = {}
  for i = 1, count do
    events[i] = string.format(
      '{"eventType":"bench_%d","userId":"user-%d","metadata":{"page":"/p/%d","i":%d}}',
      i % 7, i % 1000, i % 50, i)
  end
  body = count == 1 and events[1] or ("[" .. table.concat(events, ",") .. "]")
  headers = {["Content-Type"] = "application/json", ["X-API-Key"] = args[1]}
end

function request()
  return wrk.format("POST", "/webhook", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99),
    summary.duration))
end
