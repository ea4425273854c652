// The ceiling for R1 on this machine: a bare Fastify (no database, no auth, no hooks) answering
// a JSON body of R1's size, already serialized, with R1's headers. Whatever Latch does on top of
// this costs throughput; this process shows what the HTTP exchange of that body alone costs.
// Usage: node ceiling-server.mjs <port> <bytes> [string|buffer]  (buffer: the body kept as bytes)
import Fastify from "fastify";

const port = Number(process.argv[2] ?? "0");
const bytes = Number(process.argv[3] ?? "4096");
const filler = "x".repeat(Math.max(0, bytes - 12));
const text = JSON.stringify({ f: filler }).slice(0, bytes);
const body = process.argv[4] === "buffer" ? Buffer.from(text) : text;
const app = Fastify({ logger: false });

app.get("/", async (_request, reply) =>
  reply
    .header("cache-control", "no-store")
    .header("etag", '"0123456789abcdef0123456789abcdef"')
    .header("content-type", "application/json; charset=utf-8")
    .send(body),
);

await app.listen({ host: "127.0.0.1", port });
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0));
  });
}
