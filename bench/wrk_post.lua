-- wrk script for the booking benchmark: each thread POSTs its share of the JSON bodies in
-- BODIES_FILE (one per line), each once, to WRK_PATH; `done` prints one JSON line with what
-- came back. Run by bench/booking.py, which sizes the file so the bodies outlast the run.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local every = tonumber(os.getenv("WRK_THREADS"))
  bodies, index, created, other, exhausted, first_error = {}, 0, 0, 0, 0, ""
  local n = 0
  for line in io.lines(os.getenv("BODIES_FILE")) do
    if n % every == id then table.insert(bodies, line) end
    n = n + 1
  end
  headers = {["Content-Type"] = "application/json"}
  if os.getenv("WRK_AUTH") ~= "" then headers["Authorization"] = os.getenv("WRK_AUTH") end
end

function request()
  index = index + 1
  if index > #bodies then
    exhausted = exhausted + 1
    return wrk.format("GET", "/health")
  end
  return wrk.format("POST", os.getenv("WRK_PATH"), headers, bodies[index])
end

function response(status, headers, body)
  if index > #bodies then return end
  if status == 201 then
    created = created + 1
  else
    other = other + 1
    if first_error == "" then first_error = status .. ": " .. string.sub(body, 1, 200) end
  end
end

function done(summary, latency, requests)
  local c, o, x, e = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
    x = x + t:get("exhausted")
    if e == "" then e = t:get("first_error") end
  end
  e = string.gsub(string.gsub(e, "\\", "\\\\"), '"', '\\"')
  io.write(string.format(
    '{"created": %d, "other": %d, "exhausted": %d, "seconds": %f, "p50_ms": %f, ' ..
    '"p95_ms": %f, "socket_errors": %d, "first_error": "%s"}\n',
    c, o, x, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    e))
end
