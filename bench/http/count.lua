-- count.lua - wrk script: /api/v1/count over a few cohort expressions, with
-- the bearer token in TOKEN (the count route needs the registered tier).
local cohorts = {"sex=F", "sex=M", "icd10:E11", "icd10:I21", "age>=50", "icd10:E11%20and%20sex=F"}
local headers = {Authorization = "Bearer " .. (os.getenv("TOKEN") or "")}
local i = 0
request = function()
    i = i + 1
    return wrk.format("GET", "/api/v1/count?cohort=" .. cohorts[(i % #cohorts) + 1], headers)
end
