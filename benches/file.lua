-- wrk script: files reports (POST /incidents) at random points over the
-- sample district, as the hotline desk and phones do.
-- Usage (serve with --rate-limit 0; TOKEN from `gridgov tokens issue`):
--   wrk -t1 -c1 -d10s --latency -H "Authorization: Bearer $TOKEN" -s benches/file.lua http://127.0.0.1:18090
-- BBOX="w,s,e,n" (WGS 84) sets the area the points fall in.
local bbox = {117.5243, 34.8446, 117.5757, 34.8753}
local env = os.getenv("BBOX")
if env then
  local i = 1
  for v in string.gmatch(env, "[^,]+") do bbox[i] = tonumber(v); i = i + 1 end
end
local cats = {"环境卫生", "道路设施", "噪音扰民", "违章停车"}
math.randomseed(7)
request = function()
  local lon = bbox[1] + math.random() * (bbox[3] - bbox[1])
  local lat = bbox[2] + math.random() * (bbox[4] - bbox[2])
  local body = string.format(
    '{"lon":%.6f,"lat":%.6f,"category":"%s","source":"hotline_12345","description":"bench"}',
    lon, lat, cats[math.random(#cats)])
  -- Headers given here replace those of -H: carry them over.
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  h["Content-Type"] = "application/json"
  return wrk.format("POST", "/incidents", h, body)
end
