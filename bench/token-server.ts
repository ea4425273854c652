// E1's token endpoint, in its own process on 127.0.0.1: answers every client_credentials grant
// with a fresh token living one day and counts requests per client_id, so the suite can check
// "exactly one token request each". GET /stats returns the counts.
// Usage: node token-server.mjs <port>
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? "0");
const perClient = new Map<string, number>();
let total = 0;
let firstAt: number | null = null;
let lastAt: number | null = null;

const server = createServer((request, response) => {
  if (request.method === "GET" && request.url === "/stats") {
    let duplicates = 0;
    for (const count of perClient.values()) if (count > 1) duplicates += 1;
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ total, clients: perClient.size, duplicates, firstAt, lastAt }));
    return;
  }
  if (request.method === "GET" && request.url === "/healthz") {
    response.writeHead(200).end("ok");
    return;
  }
  let body = "";
  request.setEncoding("utf8");
  request.on("data", (chunk: string) => {
    if (body.length < 16_384) body += chunk;
  });
  request.on("end", () => {
    const form = new URLSearchParams(body);
    const client = form.get("client_id") ?? "?";
    perClient.set(client, (perClient.get(client) ?? 0) + 1);
    total += 1;
    const now = Date.now();
    firstAt ??= now;
    lastAt = now;
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ access_token: `bench-${client}-${total}`, token_type: "Bearer", expires_in: 86_400 }));
  });
});

server.listen(port, "127.0.0.1");
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
