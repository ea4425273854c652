// P2's load generator (bench/watch.ts): one process holding a share of the watches, each a
// plain HTTP/1.1 request on its own socket. Started with an IPC channel; receives its targets,
// opens them in ramps (a burst of thousands of connects overflows the listen backlog), retries
// a refused one until the parent says the write is coming, then reports when each was answered.
import http from "node:http";

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
const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
const now = () => performance.timeOrigin + performance.now();
let marked = false;

/** Connects under way: a new watch is opened only while fewer than `rampSize` are (see ramp). */
let connecting = 0;
let connected = 0;

function watch(start: Start, target: Target, done: (answer: Answer) => void): void {
  const url = new URL(`${start.url}/v1/runtime/services/${target.serviceId}?wait=${start.waitS}`);
  const retry = (why: string) => {
    // Before the write, a refused watch is set-up noise: open it again. After, it is an error.
    if (!marked) setTimeout(() => watch(start, target, done), 200);
    else done({ status: 0, at: now(), changed: false, early: false, error: why });
  };
  const request = http.request(
    url,
    { agent, headers: { authorization: `Token ${target.token}`, "if-none-match": target.etag } },
    (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const status = response.statusCode ?? 0;
        if (!marked && status === 503) return retry("503");
        done({ status, at: now(), changed: response.headers.etag !== target.etag, early: !marked, error: null });
      });
      response.on("error", (error) => retry(error.message));
    },
  );
  connecting += 1;
  let counted = true;
  const settled = () => {
    if (!counted) return;
    counted = false;
    connecting -= 1;
  };
  request.on("socket", (socket) => {
    socket.once("connect", () => {
      settled();
      connected += 1;
    });
    socket.once("close", settled);
  });
  request.on("error", (error) => {
    settled();
    retry(error.message);
  });
  request.end();
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
