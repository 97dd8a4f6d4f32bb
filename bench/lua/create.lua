-- POST /api/v1/qr: creates a dynamic code on every request (no Idempotency-Key, so each one is a new write).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"Bench create","type":"url","mode":"dynamic","destination_url":"https://example.com/created","tags":["bench"]}'
