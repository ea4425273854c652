// Large JSON answers serialized a slice at a time, with turns of the event loop between (issue
// #14: no synchronous step on a request path over 20 ms). An answer whose last property is a long
// array (`{ "results": [...] }`, `{ "at": ..., "results": [...] }`) is made of that array's
// items serialized 100 at a time by the route's own serializer and joined: the bytes are those
// the serializer makes of the whole answer, UTF-8 encoded slice by slice. Serialized and encoded in
// one step, 10,000 variables' metadata (2.7 MB) held the loop ~35 ms, their plain values (4.6 MB)
// ~100 ms.
import type { FastifyReply } from "fastify";
import { createPauses } from "../../kernel/turns.js";

/** What Fastify itself sends for a serialized JSON answer. */
export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** Items shown and serialized between two looks at the clock. */
const SLICE = 100;

/**
 * `{ ...head, [field]: items.map(show) }` as the route's 200 serializer writes it, a slice of
 * items at a time: an array's items serialize independently, so the slices' items joined by commas
 * are the whole array's. Should the serializer not write `field` last (a schema with a property
 * after it), the answer is serialized whole.
 */
export async function serializeSliced<T>(
  reply: FastifyReply,
  head: Record<string, unknown>,
  field: string,
  items: readonly T[],
  show: (item: T) => unknown = (item) => item,
): Promise<Buffer> {
  const serialize = (slice: readonly T[]) => reply.serialize({ ...head, [field]: slice.map(show) }) as string;
  const whole = () => Buffer.from(serialize(items));
  const empty = reply.serialize({ ...head, [field]: [] }) as string;
  if (items.length <= SLICE || !empty.endsWith(`${JSON.stringify(field)}:[]}`)) return whole();
  const open = empty.slice(0, -2);
  const close = "]}";
  const pauses = createPauses();
  const parts: Buffer[] = [Buffer.from(open)];
  for (let start = 0; start < items.length; start += SLICE) {
    await pauses.pause();
    const framed = serialize(items.slice(start, start + SLICE));
    if (!framed.startsWith(open) || !framed.endsWith(close)) return whole();
    if (start > 0) parts.push(Buffer.from(","));
    parts.push(Buffer.from(framed.slice(open.length, framed.length - close.length)));
  }
  parts.push(Buffer.from(close));
  return Buffer.concat(parts);
}

/** Sends `{ ...head, [field]: items.map(show) }` as a 200, serialized a slice at a time. */
export async function sendSliced<T>(
  reply: FastifyReply,
  head: Record<string, unknown>,
  field: string,
  items: readonly T[],
  show?: (item: T) => unknown,
): Promise<FastifyReply> {
  return sendJsonBytes(reply, await serializeSliced(reply, head, field, items, show));
}

/** Sends bytes serialized by the route's serializer as its 200 answer, as Fastify would. */
export function sendJsonBytes(reply: FastifyReply, body: Buffer): FastifyReply {
  return reply.status(200).header("content-type", JSON_CONTENT_TYPE).send(body);
}
