// Notes on secrets: list, create, lookup. Notes cannot be edited or deleted.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Context } from "../../context.js";
import { principalOf } from "../http/principal.js";
import { documentedBody, NoteCreateBody } from "./body-schemas.js";
import { bodyData, indexDocument, linkerOf, rowId } from "./document.js";
import { many, Note, one } from "./schemas.js";
import { NOTE_FILTERS, noteResource, noteView } from "./secret-mappers.js";

const IdParams = Type.Object({ id: Type.String() });

export const notesRoutes: FastifyPluginAsyncTypebox<{ context: Context }> = async (app, { context }) => {
  const { notes } = context;

  app.get(
    "/secrets/:id/notes",
    { schema: { tags: ["reactor:notes"], params: IdParams, response: { 200: many(Note) } } },
    async (request) => {
      const linker = linkerOf(request);
      const list = await notes.list(principalOf(request), "secrets", rowId("credential", request.params.id, "Secret"));
      return indexDocument(request, list, noteView, NOTE_FILTERS, (note) => noteResource(note, linker));
    },
  );

  app.post(
    "/secrets/:id/notes",
    {
      schema: { tags: ["reactor:notes"], params: IdParams, response: { 201: one(Note) } },
      config: { swaggerTransform: documentedBody(NoteCreateBody) },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const secretId = rowId("credential", request.params.id, "Secret");
      await context.credentials.load(principal, secretId, "read");
      const data = bodyData(request.body, "notes");
      const note = await notes.create(principal, "secrets", secretId, data.attributes?.text);
      return reply.status(201).send({ data: noteResource(note, linkerOf(request)) });
    },
  );

  app.get("/notes/:id", { schema: { tags: ["reactor:notes"], params: IdParams, response: { 200: one(Note) } } }, async (request) => {
    const note = await notes.get(principalOf(request), rowId("note", request.params.id, "Note"));
    return { data: noteResource(note, linkerOf(request)) };
  });
};
