-- wrk script: POST one small non-streaming chat completion per request, keep-alive.
--   BENCH_KEY   bearer token (optional: the fake upstream needs none)
--   BENCH_PATH  request path (default /v1/chat/completions)
--   BENCH_MODEL model id (default qwen/qwen3-32b)
-- At the end it prints one line "BENCH_JSON {...}" with exact figures (microseconds), which
-- benchmarks/run.py parses; wrk's own --latency text is kept beside it in the .raw file.

local key = os.getenv("BENCH_KEY")
local model = os.getenv("BENCH_MODEL") or "qwen/qwen3-32b"

wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end
wrk.body = '{"model":"' .. model .. '","max_tokens":64,'
  .. '"messages":[{"role":"user","content":"Say hello to the benchmark in five words."}]}'

function done(summary, latency, requests)
  local e = summary.errors
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"err_connect":%d', e.connect),
    string.format('"err_read":%d', e.read),
    string.format('"err_write":%d', e.write),
    string.format('"err_status":%d', e.status),
    string.format('"err_timeout":%d', e.timeout),
    string.format('"lat_mean_us":%.1f', latency.mean),
    string.format('"lat_stdev_us":%.1f', latency.stdev),
    string.format('"lat_min_us":%d', latency.min),
    string.format('"lat_max_us":%d', latency.max),
  }
  for _, p in ipairs({50, 75, 90, 99, 99.9}) do
    parts[#parts + 1] = string.format('"p%s_us":%d', tostring(p):gsub("%.", "_"), latency:percentile(p))
  end
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end
