-- GET the URL on the command line as a different visitor on most requests: 50,000 client addresses (X-Forwarded-For,
-- public APNIC ranges, so GeoIP has something to find) and 20 browser builds. The server must trust the proxy header.
local n = 0
local agents = {}
for i = 1, 20 do
  agents[i] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0." .. i .. " Safari/537.36"
end

request = function()
  n = n + 1
  local v = n % 50000
  return wrk.format(nil, nil, { ["User-Agent"] = agents[(n % 20) + 1], ["X-Forwarded-For"] = "203.0." .. math.floor(v / 250) .. "." .. (v % 250) })
end
