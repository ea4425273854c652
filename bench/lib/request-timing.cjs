// Preloaded into a server (NODE_OPTIONS=--require=<this file>, through BENCH_SERVER_ENV): for every
// request that is not a GET and carries `x-sent-at` (the writers of M1 send the moment they wrote
// it, as performance.timeOrigin + performance.now()), how long it waited before the server took it
// up (from that moment to Node's 'request' event: the socket's wait for a turn of the loop) and how
// long the server then took to answer it (to the response's 'finish'). Written to
// $BENCH_REQUEST_TIMING_LOG as percentiles when the server exits. Tells a write's time in the
// server from the time before it, which the load generator's figure sums (issue #14, M1).
const { writeFileSync } = require("node:fs");
const http = require("node:http");

const file = process.env.BENCH_REQUEST_TIMING_LOG;
if (file) {
  const waited = [];
  const served = [];
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function timed(event, ...rest) {
    const [request, response] = rest;
    if (event === "request" && request.method !== "GET" && request.headers["x-sent-at"] !== undefined) {
      const at = performance.timeOrigin + performance.now();
      waited.push(at - Number(request.headers["x-sent-at"]));
      response.once("finish", () => served.push(performance.timeOrigin + performance.now() - at));
    }
    return emit.call(this, event, ...rest);
  };
  const summary = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN).toFixed(1);
    return `n ${sorted.length}, p50 ${at(0.5)}, p90 ${at(0.9)}, p99 ${at(0.99)}, max ${at(1)} ms`;
  };
  const write = () => writeFileSync(file, `before the server: ${summary(waited)}\nin the server: ${summary(served)}\n`);
  // The server closes on SIGTERM and then exits: its last answers are counted.
  process.once("exit", write);
}
