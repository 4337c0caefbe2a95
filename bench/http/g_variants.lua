-- g_variants.lua - wrk script: Beacon v2 sequence queries over many
-- positions, hits and misses mixed. VARIANTS (env) names a file of lines
-- "CHROM POS REF ALT" (1-based POS); each line gives one query as it is and,
-- with ALT replaced, a miss at the same position.
local path = os.getenv("VARIANTS") or "variants.txt"
local reqs = {}
local swap = {A = "C", C = "G", G = "T", T = "A"}
for line in io.lines(path) do
    local chrom, pos, ref, alt = line:match("^(%S+)%s+(%d+)%s+(%S+)%s+(%S+)")
    if chrom then
        local start = tonumber(pos) - 1
        local base = "/api/beacon/v2/g_variants?referenceName=" .. chrom .. "&start=" .. start ..
                     "&referenceBases=" .. ref .. "&alternateBases="
        reqs[#reqs + 1] = base .. alt
        local miss = swap[alt] or "A"
        if miss == ref then miss = swap[miss] end
        reqs[#reqs + 1] = base .. miss
    end
end
local headers = {}
local token = os.getenv("TOKEN")
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
local i = 0
function setup(thread)
    thread:set("offset", math.random(1, #reqs))
end
request = function()
    i = i + 1
    local r = reqs[((i * 7919 + (offset or 0)) % #reqs) + 1]
    return wrk.format("GET", r, headers)
end
