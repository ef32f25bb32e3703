-- Random points over the sample district, GCJ-02 as phones send them.
-- Usage (serve with --rate-limit 0; TOKEN from `gridgov tokens issue`):
--   wrk -t1 -c32 -d10s --latency -H "Authorization: Bearer $TOKEN" -s benches/lookup.lua http://127.0.0.1:18090
math.randomseed(42)
request = function()
  local lon = 117.5243 + math.random() * 0.0514
  local lat = 34.8446 + math.random() * 0.0307
  return wrk.format("GET", string.format("/lookup?lon=%.6f&lat=%.6f", lon, lat))
end
