-- POST /api/v1/qr with an Idempotency-Key, as the Zapier and n8n connectors send: each request a new key (this
-- run's start time and a counter), so each one claims its key and makes one code.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"Bench create","type":"url","mode":"dynamic","destination_url":"https://example.com/created","tags":["bench"]}'
local run = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
local sent = 0
request = function()
  sent = sent + 1
  -- wrk.format replaces wrk.headers with the table it is given: the run's headers are copied into it
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Idempotency-Key"] = "bench-" .. run .. "-" .. sent
  return wrk.format(nil, nil, headers)
end
