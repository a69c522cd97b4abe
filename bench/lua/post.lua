-- POST BENCH_BODY (default {"n":1}) as JSON to the URL given on the
-- command line, optionally paced to BENCH_RATE requests/s in all.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or '{"n":1}'
wrk.headers["Content-Type"] = "application/json"
if tonumber(os.getenv("BENCH_RATE") or "0") > 0 then
   dofile(os.getenv("BENCH_LUA_DIR") .. "/pace.lua")
end
