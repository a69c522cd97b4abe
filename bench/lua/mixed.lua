-- The memory scenario's mix, cycled per request on every connection:
-- 12/20 GET status of one of BENCH_IDS instances (ids BENCH_PREFIX<i>),
-- 2/20 list top=10, 3/20 POST start, 3/20 raise event on one of them.
-- Run with one thread (-t1): after BENCH_COUNT responses the thread stops
-- and sends SIGINT to wrk, which ends the run early (wrk's main thread
-- otherwise sleeps for the whole -d duration) and prints the summary.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
local ffi = require("ffi")
ffi.cdef[[
int getpid(void);
int kill(int pid, int sig);
]]

local base = os.getenv("BENCH_BASE")      -- e.g. /runtime/webhooks/durabletask
local q = os.getenv("BENCH_QUERY")        -- taskHub=...&connection=...
local ids = tonumber(os.getenv("BENCH_IDS") or "1000")
local prefix = os.getenv("BENCH_PREFIX") or "m-"
local limit = tonumber(os.getenv("BENCH_COUNT"))
local json = { ["Content-Type"] = "application/json" }
local n, got = 0, 0

function request()
   n = n + 1
   local k = n % 20
   local id = prefix .. (n * 7919 % ids)
   if k < 12 then
      return wrk.format("GET", base .. "/instances/" .. id .. "?" .. q)
   elseif k < 14 then
      return wrk.format("GET", base .. "/instances?top=10&" .. q)
   elseif k < 17 then
      return wrk.format("POST", base .. "/orchestrators/Hello?" .. q,
                        json, '{"n":1}')
   else
      return wrk.format("POST", base .. "/instances/" .. id ..
                        "/raiseEvent/Ping?" .. q, json, '{"x":1}')
   end
end

function response(status, headers, body)
   got = got + 1
   if got == limit then
      wrk.thread:stop()
      -- a process-directed signal goes to the main thread (the thread
      -- group leader) when it does not block it: its sleep() ends
      ffi.C.kill(ffi.C.getpid(), 2)
   end
end
