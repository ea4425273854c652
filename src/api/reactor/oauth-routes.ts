// GET /reactor/oauth2/callback: where Google sends the browser after consent. It needs neither
// Authorization nor x-api-key: the signed single-use `state` is the proof (the engine checks it
// and does every DB write). A person reads the answer, so it is a short HTML page either way.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyReply } from "fastify";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import { toAppError } from "../http/errors.js";

const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 4096 })),
  state: Type.Optional(Type.String({ maxLength: 4096 })),
  error: Type.Optional(Type.String({ maxLength: 256 })),
});

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(reply: FastifyReply, status: number, title: string, message: string): FastifyReply {
  // The URL held the code and state: no referrer, no cache, nothing active on the page.
  return reply
    .status(status)
    .header("content-type", "text/html; charset=utf-8")
    .header("cache-control", "no-store")
    .header("referrer-policy", "no-referrer")
    .header("x-content-type-options", "nosniff")
    .header("content-security-policy", "default-src 'none'")
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
        `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`,
    );
}

export const oauthRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "exchange"> }> = async (app, { context }) => {
  app.get(
    "/oauth2/callback",
    { config: { reactorPublic: true }, schema: { tags: ["reactor:secrets"], querystring: CallbackQuery } },
    async (request, reply) => {
      const { code, state, error } = request.query;
      try {
        if (error !== undefined) {
          // With a genuine state the secret records the refusal (its earlier token stays delivered).
          if (state !== undefined && state !== "") await context.exchange.google.handleDenied(error, state);
          throw new AppError("BAD_REQUEST", "Google did not grant access; start again with the reauthorize action");
        }
        if (state === undefined || state === "") throw new AppError("BAD_REQUEST", "The callback has no state");
        if (code === undefined || code === "") throw new AppError("BAD_REQUEST", "The callback has no code");
        await context.exchange.google.handleCallback(code, state);
      } catch (caught) {
        const appError = toAppError(caught);
        if (appError.status >= 500) request.log.error({ err: caught }, "oauth2 callback failed");
        return page(reply, appError.status, "Authorization not completed", appError.message);
      }
      return page(reply, 200, "Authorization complete", "The secret is authorized. You can close this page.");
    },
  );
};
