-- Constant-rate pacing for wrk 4.1 (which has no -R): every request takes
-- the next slot of a per-thread schedule, BENCH_RATE / BENCH_THREADS per
-- second; delay() waits until the slot (ms resolution; a late slot goes at
-- once, so the schedule catches up, as wrk2 does). Latency is measured by
-- wrk from the moment the request is written (no coordinated-omission
-- correction).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec_t;
int clock_gettime(int clk, bench_timespec_t *ts);
]]
local ts = ffi.new("bench_timespec_t")
local function now_us()
   ffi.C.clock_gettime(1, ts)
   return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local rate = tonumber(os.getenv("BENCH_RATE"))
local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
local interval = 1e6 * threads / rate     -- µs between slots, per thread
local next_slot = nil

function delay()
   local now = now_us()
   if next_slot == nil then
      next_slot = now
   end
   local slot = next_slot
   next_slot = next_slot + interval
   local d = (slot - now) / 1000
   if d < 0 then
      return 0
   end
   return math.floor(d)
end
