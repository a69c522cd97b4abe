-- GET the URL given on the command line (a static request: no Lua per
-- request), optionally paced to BENCH_RATE requests/s in all.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
if tonumber(os.getenv("BENCH_RATE") or "0") > 0 then
   dofile(os.getenv("BENCH_LUA_DIR") .. "/pace.lua")
end
