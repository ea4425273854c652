// P2's load generator (bench/watch.ts): one process holding a share of the watches, each a
// plain HTTP/1.1 request on its own socket. Started with an IPC channel; receives its targets,
// opens them in ramps (a burst of thousands of connects overflows the listen backlog), retries
// a refused one until the parent says the write is coming, then reports when each was answered.
import net from "node:net";

interface Target {
  serviceId: string;
  token: string;
  etag: string;
}
interface Start {
  type: "start";
  url: string;
  targets: Target[];
  waitS: number;
  rampSize: number;
  rampGapMs: number;
}
export interface Answer {
  status: number;
  /** ms since the epoch, high resolution. */
  at: number;
  changed: boolean;
  /** Answered (or failed) before the parent marked the write. */
  early: boolean;
  error: string | null;
}

const send = (message: unknown) => process.send?.(message);
const now = () => performance.timeOrigin + performance.now();
let marked = false;

/** Connects under way: a new watch is opened only while fewer than `rampSize` are (see ramp). */
let connecting = 0;
let connected = 0;

/** The status, ETag and body length of a response head, or null while it is incomplete. */
function headOf(data: Buffer): { status: number; etag: string | null; length: number; bodyAt: number } | null {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const lines = data.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number((lines[0] ?? "").split(" ")[1]);
  let etag: string | null = null;
  let length = 0;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (name === "etag") etag = line.slice(colon + 1).trim();
    else if (name === "content-length") length = Number(line.slice(colon + 1).trim());
  }
  return { status, etag, length, bodyAt: end + 4 };
}

/**
 * One watch: a plain HTTP/1.1 request written on its own TCP socket and its answer read with a
 * minimal parser (status line, ETag, Content-Length), as a load generator does (wrk, autocannon):
 * node:http's client cost the four clients twice the server's CPU over the wake (bench/README.md,
 * P2), on the two cores they share with the server. The socket is kept alive, as the SDK's
 * watches are: the answer is complete when its Content-Length bytes arrived.
 */
function watch(start: Start, target: Target, done: (answer: Answer) => void): void {
  const url = new URL(start.url);
  const request = Buffer.from(
    `GET /v1/runtime/services/${target.serviceId}?wait=${start.waitS} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      `Authorization: Token ${target.token}\r\nIf-None-Match: ${target.etag}\r\nConnection: keep-alive\r\n\r\n`,
    "latin1",
  );
  let finished = false;
  const retry = (why: string) => {
    if (finished) return;
    finished = true;
    socket.destroy();
    // Before the write, a refused watch is set-up noise: open it again. After, it is an error.
    if (!marked) setTimeout(() => watch(start, target, done), 200);
    else done({ status: 0, at: now(), changed: false, early: false, error: why });
  };
  connecting += 1;
  let counted = true;
  const settled = () => {
    if (!counted) return;
    counted = false;
    connecting -= 1;
  };
  const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
    settled();
    connected += 1;
    socket.write(request);
  });
  let received: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const head = headOf(received);
    if (head === null || received.length - head.bodyAt < head.length) return;
    if (!marked && head.status === 503) return retry("503");
    finished = true;
    // Left open (a watcher polls again on it); closed when the process exits.
    done({ status: head.status, at: now(), changed: head.etag !== target.etag, early: !marked, error: null });
  });
  socket.on("error", (error) => {
    settled();
    retry(error.message);
  });
  socket.on("close", () => {
    settled();
    retry("closed before an answer");
  });
}

let answers: Answer[] = [];
process.on("message", (message: Start | { type: "mark" } | { type: "exit" } | { type: "report" }) => {
  if (message.type === "mark") {
    marked = true;
    return;
  }
  if (message.type === "report") {
    // The parent gave up waiting: what came back so far.
    send({ type: "done", answers, partial: true });
    return;
  }
  if (message.type === "exit") process.exit(0);
  const start = message;
  answers = [];
  const finish = (answer: Answer) => {
    answers.push(answer);
    if (answers.length === start.targets.length) send({ type: "done", answers });
  };
  // A burst of thousands of connects overflows the server's listen backlog, and a dropped SYN is
  // retried by the kernel after 1, 3, 7, 15, 31 s: a watch could then arrive after the write.
  // At most `rampSize` connects are under way at once, and "sent" means every socket connected.
  let index = 0;
  const ramp = () => {
    for (; index < start.targets.length && connecting < start.rampSize; index += 1) {
      watch(start, start.targets[index] as Target, finish);
    }
    if (index < start.targets.length || connected < start.targets.length) setTimeout(ramp, start.rampGapMs);
    else send({ type: "sent", count: start.targets.length });
  };
  ramp();
});
send({ type: "ready" });
