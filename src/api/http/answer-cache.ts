// Serialized answers of the large list routes (the Qovery secret and environmentVariable lists,
// the Reactor secrets of a property), kept as bytes and valid while the project's bundle
// generation they were made at is current (src/db/generations.ts). Sending bytes
// made once per generation instead of reading, decrypting and serializing hundreds of rows per
// request is what brings these lists near the HTTP cost of their size (bench/README.md, R2/R3).
//
// What the cache does not do: decide who may read. Every request is authenticated and authorized
// by its route before the cache is consulted, and a key names what a list shows (the face, the
// owner, the page, the base URL of its links), never who asked — these answers do not depend on
// the reader once the reader may see them. Plain values of environment variables are in these
// bytes as they are in the runtime bundle cache: process memory only; secret values never are.
import type { FastifyReply } from "fastify";

/** What Fastify itself sends for a serialized JSON answer. */
const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** Bytes kept at most per cache, all entries together; the least recently used go first. */
export const ANSWER_CACHE_BYTES = 16 * 1024 * 1024;

interface Entry {
  generation: string;
  body: Buffer;
}

export interface AnswerCacheStats {
  hits: number;
  misses: number;
  bytes: number;
}

export function createAnswerCache(maxBytes = ANSWER_CACHE_BYTES) {
  const entries = new Map<string, Entry>();
  const stats: AnswerCacheStats = { hits: 0, misses: 0, bytes: 0 };

  function remember(key: string, entry: Entry): void {
    const old = entries.get(key);
    if (old !== undefined) {
      entries.delete(key);
      stats.bytes -= old.body.length;
    }
    if (entry.body.length > maxBytes) return;
    for (const [oldest, { body }] of entries) {
      if (stats.bytes + entry.body.length <= maxBytes) break;
      entries.delete(oldest);
      stats.bytes -= body.length;
    }
    entries.set(key, entry);
    stats.bytes += entry.body.length;
  }

  return {
    stats,

    /**
     * Sends the 200 answer kept for `key` at `generation`, or builds it (the route's own
     * serializer, so the bytes are those Fastify would send), keeps and sends it. The caller
     * has authorized the request and read `generation` before anything `build` reads.
     */
    async send(reply: FastifyReply, key: string, generation: string, build: () => Promise<unknown>): Promise<FastifyReply> {
      let entry = entries.get(key);
      if (entry !== undefined && entry.generation === generation) {
        stats.hits += 1;
        // Most recently used last, so eviction takes the coldest answers.
        entries.delete(key);
        entries.set(key, entry);
      } else {
        stats.misses += 1;
        entry = { generation, body: Buffer.from(reply.serialize(await build()) as string) };
        remember(key, entry);
      }
      return reply.status(200).header("content-type", JSON_CONTENT_TYPE).send(entry.body);
    },
  };
}

export type AnswerCache = ReturnType<typeof createAnswerCache>;
