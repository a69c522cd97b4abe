-- List instances (the URL's query: top, taskHub, connection) following
-- x-ms-continuation-token: each request continues from the last token
-- any connection of the thread received; no token: back to the first page.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
local token = nil

function request()
   if token then
      return wrk.format("GET", nil, { ["x-ms-continuation-token"] = token })
   end
   return wrk.format("GET", nil)
end

function response(status, headers, body)
   local t = headers["x-ms-continuation-token"]
         or headers["X-Ms-Continuation-Token"]
   if t == nil or t == "" then
      token = nil
   else
      token = t
   end
end
