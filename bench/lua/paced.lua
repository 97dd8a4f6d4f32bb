-- A slow, steady probe: each connection waits 10 ms between requests (latency under load, not throughput).
delay = function()
  return 10
end
