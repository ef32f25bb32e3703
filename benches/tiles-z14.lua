-- wrk script: cycles over the sample district's 12 vector tiles at z14
-- (all layers), as a map client panning over the district would ask.
-- Usage (serve with --rate-limit 0; TOKEN from `gridgov tokens issue`):
--   wrk -t2 -c4 -d20s -H "Authorization: Bearer $TOKEN" -s benches/tiles-z14.lua http://127.0.0.1:8080
local tiles = {}
for x = 13540, 13543 do
  for y = 6496, 6498 do
    tiles[#tiles + 1] = string.format("/tiles/all/14/%d/%d.mvt", x, y)
  end
end
local i = 0
request = function()
  i = i % #tiles + 1
  return wrk.format("GET", tiles[i])
end
