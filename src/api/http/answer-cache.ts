// Serialized answers of the large list routes (the Qovery secret and environmentVariable lists,
// the Reactor secrets of a property), kept as bytes in the one generation cache
// (src/kernel/generation-cache.ts): valid while the generations of the layers they were made of
// are current (src/db/generations.ts; a write elsewhere in the project leaves them). Sending bytes
// made once per generation instead of reading, decrypting and serializing hundreds of rows per
// request is what brings these lists near the HTTP cost of their size (bench/README.md, R2/R3).
//
// What the cache does not do: decide who may read. Every request is authenticated and authorized
// by its route before the cache is consulted, and a key names what a list shows (the face, the
// owner, the page, the base URL of its links), never who asked — these answers do not depend on
// the reader once the reader may see them. Plain values of environment variables are in these
// bytes as they are in the runtime bundle cache: process memory only; secret values never are.
import type { FastifyReply } from "fastify";
import { createGenerationCache } from "../../kernel/generation-cache.js";
import { sendJsonBytes, serializeSliced } from "./sliced-json.js";

/** Bytes kept at most per cache, all entries together; the least recently used go first. */
export const ANSWER_CACHE_BYTES = 16 * 1024 * 1024;

/** The HTTP side of the one generation cache (src/kernel/generation-cache.ts): answers as bytes. */
export function createAnswerCache(maxBytes = ANSWER_CACHE_BYTES) {
  const answers = createGenerationCache<Buffer>({ maxBytes, sizeOf: (body) => body.length });

  /** Sends the bytes kept for `key` at `generation`, or those `make` gives, kept first. */
  async function sendKept(reply: FastifyReply, key: string, generation: string, make: () => Promise<Buffer>): Promise<FastifyReply> {
    return sendJsonBytes(reply, await answers.obtain(key, generation, make));
  }

  return {
    /**
     * Sends the 200 answer kept for `key` at `generation`, or builds it (the route's own
     * serializer, so the bytes are those Fastify would send), keeps and sends it. The caller
     * has authorized the request and read `generation` before anything `build` reads. Concurrent
     * misses of one key and generation wait for one build: the answer does not depend on the
     * reader (see above).
     */
    async send(reply: FastifyReply, key: string, generation: string, build: () => Promise<unknown>): Promise<FastifyReply> {
      return sendKept(reply, key, generation, async () => Buffer.from(reply.serialize(await build()) as string));
    },

    /**
     * The same for an answer `{ "results": [...] }` of every item `load` gives, each shown by
     * `show`: the items are shown and serialized a slice at a time with turns of the event loop
     * between (sliced-json.ts). The bytes are the route's serializer's for the whole answer.
     */
    async sendResults<T>(
      reply: FastifyReply,
      key: string,
      generation: string,
      load: () => Promise<T[]>,
      show: (item: T) => unknown,
    ): Promise<FastifyReply> {
      return sendKept(reply, key, generation, async () => serializeSliced(reply, {}, "results", await load(), show));
    },
  };
}

export type AnswerCache = ReturnType<typeof createAnswerCache>;
