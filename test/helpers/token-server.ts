// A real token endpoint on a loopback address, with behaviour the test sets: answer a token with
// a given expires_in, 401, 500, hang, non-JSON, a huge body, a redirect, invalid_grant. Every
// request is recorded (path and form fields) so tests can count and inspect them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** Text planted in failure bodies: a status detail or log line that contains it quoted a raw body. */
export const BODY_CANARY = "RAW-BODY-CANARY-7c1e";

export type Behaviour =
  | {
      kind: "ok";
      expiresIn?: number | string | null;
      accessToken?: string;
      refreshToken?: string;
      extra?: Record<string, unknown>;
      /** Answer after this long (to make exchanges overlap), not a timing assertion. */
      delayMs?: number;
    }
  | { kind: "status"; status: number; json?: Record<string, unknown> }
  | { kind: "invalid-grant" }
  | { kind: "hang" }
  | { kind: "non-json" }
  | { kind: "huge"; bytes?: number; declareLength?: boolean }
  | { kind: "redirect"; location?: string };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  form: Record<string, string>;
}

export interface TokenServer {
  /** http://host:port, with brackets for IPv6. */
  url: string;
  host: string;
  port: number;
  requests: RecordedRequest[];
  /** Sets what every following request gets; a function can answer per request. */
  behave(behaviour: Behaviour | ((request: RecordedRequest) => Behaviour)): void;
  /** Requests received and not yet answered (a hanging one counts until its client gives up). */
  open(): number;
  /** The most requests open at once since the start or the last resetPeak(). */
  peakOpen(): number;
  resetPeak(): void;
  /** Resolves once the server has received `count` requests in total. */
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

let issued = 0;
/** A fresh access token; each carries a canary prefix so leak checks can search for it. */
export function newAccessToken(): string {
  issued += 1;
  return `at-CANARY-${process.pid}-${issued}-${Math.random().toString(36).slice(2)}`;
}

function reply(response: ServerResponse, behaviour: Behaviour): void {
  switch (behaviour.kind) {
    case "ok": {
      if (behaviour.delayMs !== undefined && behaviour.delayMs > 0) {
        setTimeout(() => reply(response, { ...behaviour, delayMs: 0 }), behaviour.delayMs);
        return;
      }
      const body: Record<string, unknown> = {
        access_token: behaviour.accessToken ?? newAccessToken(),
        token_type: "Bearer",
        ...(behaviour.expiresIn === null ? {} : { expires_in: behaviour.expiresIn ?? 86400 }),
        ...(behaviour.refreshToken === undefined ? {} : { refresh_token: behaviour.refreshToken }),
        ...(behaviour.extra ?? {}),
      };
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
      return;
    }
    case "status":
      response
        .writeHead(behaviour.status, { "content-type": "application/json" })
        .end(JSON.stringify(behaviour.json ?? { error: "server_says_no", error_description: BODY_CANARY }));
      return;
    case "invalid-grant":
      response
        .writeHead(400, { "content-type": "application/json" })
        .end(JSON.stringify({ error: "invalid_grant", error_description: `Token has been expired or revoked. ${BODY_CANARY}` }));
      return;
    case "hang":
      // Never answers; close() destroys the socket.
      return;
    case "non-json":
      response.writeHead(200, { "content-type": "text/html" }).end(`<html><body>${BODY_CANARY} access_token=nope</body></html>`);
      return;
    case "huge": {
      const bytes = behaviour.bytes ?? 2 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, "a");
      response.writeHead(200, {
        "content-type": "application/json",
        ...(behaviour.declareLength ? { "content-length": String(bytes) } : {}),
      });
      response.write(`{"access_token":"${BODY_CANARY}`);
      let sent = 0;
      const pump = () => {
        while (sent < bytes) {
          sent += chunk.length;
          if (!response.write(chunk)) {
            response.once("drain", pump);
            return;
          }
        }
        response.end('"}');
      };
      response.on("error", () => {});
      pump();
      return;
    }
    case "redirect":
      response.writeHead(302, { location: behaviour.location ?? "http://127.0.0.1:1/elsewhere" }).end(BODY_CANARY);
      return;
  }
}

export async function startTokenServer(options: { host?: string } = {}): Promise<TokenServer> {
  const host = options.host ?? "127.0.0.1";
  const requests: RecordedRequest[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let behaviour: Behaviour | ((request: RecordedRequest) => Behaviour) = { kind: "ok" };
  const sockets = new Set<Socket>();
  let open = 0;
  let peak = 0;

  const server: Server = createServer((request, response) => {
    open += 1;
    peak = Math.max(peak, open);
    // 'close' fires once, whether the answer was sent or the client went away.
    response.on("close", () => {
      open -= 1;
    });
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const recorded: RecordedRequest = {
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        form: Object.fromEntries(new URLSearchParams(text)),
      };
      requests.push(recorded);
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      reply(response, typeof behaviour === "function" ? behaviour(recorded) : behaviour);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    host,
    port,
    requests,
    behave(next) {
      behaviour = next;
    },
    open: () => open,
    peakOpen: () => peak,
    resetPeak() {
      peak = open;
    },
    waitForRequests(count) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Whether this machine can listen on an address (e.g. ::1 where IPv6 is disabled). */
export async function canListen(host: string): Promise<boolean> {
  try {
    const probe = await startTokenServer({ host });
    await probe.close();
    return true;
  } catch {
    return false;
  }
}
