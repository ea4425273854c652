// The baseline every ratio is measured against: a bare Fastify hello-world with a response
// schema (so it serializes through fast-json-stringify like Latch does), in its own process.
// Usage: node baseline-server.mjs <port>
import Fastify from "fastify";

const port = Number(process.argv[2] ?? "0");
const app = Fastify({ logger: false });

app.get(
  "/",
  {
    schema: {
      response: { 200: { type: "object", properties: { hello: { type: "string" } }, required: ["hello"] } },
    },
  },
  async () => ({ hello: "world" }),
);

await app.listen({ host: "127.0.0.1", port });
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0));
  });
}
