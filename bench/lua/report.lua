-- shared by every benchmark script: done() prints one machine-readable
-- line that bench/bench.py parses (latencies in ms).
function done(summary, latency, requests)
   local s = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,' ..
      '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"mean_ms":%.3f,' ..
      '"max_ms":%.3f,"errors_status":%d,"errors_connect":%d,' ..
      '"errors_read":%d,"errors_write":%d,"errors_timeout":%d}\n',
      summary.requests, s, summary.requests / s,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.mean / 1000,
      latency.max / 1000, e.status, e.connect, e.read, e.write, e.timeout))
end
