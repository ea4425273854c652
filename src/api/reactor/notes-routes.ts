// Notes on secrets, properties, environments and hosts: list and create on each, and lookup.
// Notes cannot be edited or deleted; they go with their resource.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../context.js";
import type { ReactorKind } from "../../kernel/ids.js";
import type { NoteResourceType } from "../../modules/notes/notes-types.js";
import { principalOf } from "../http/principal.js";
import { NoteCreateBody } from "./body-schemas.js";
import { checkedData } from "./body-validation.js";
import { indexDocument, linkerOf, rowId } from "./document.js";
import { onId, onIdWithBody } from "./route-options.js";
import { many, Note, one } from "./schemas.js";
import { NOTE_FILTERS, noteResource, noteView } from "./secret-mappers.js";

/** The collections that keep notes, the kind of their ids, and what a missing one is called. */
const NOTED: Array<{ type: NoteResourceType; kind: ReactorKind; label: string }> = [
  { type: "secrets", kind: "credential", label: "Secret" },
  { type: "properties", kind: "project", label: "Property" },
  { type: "environments", kind: "environment", label: "Environment" },
  { type: "hosts", kind: "host", label: "Host" },
];

export const notesRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "notes"> }> = async (app, { context }) => {
  const { notes } = context;

  for (const { type, kind, label } of NOTED) {
    app.get(`/${type}/:id/notes`, onId("reactor:notes", { 200: many(Note) }), async (request) => {
      const linker = linkerOf(request);
      const list = await notes.list(principalOf(request), type, rowId(kind, request.params.id, label));
      return indexDocument(request, list, noteView, NOTE_FILTERS, (note) => noteResource(note, linker));
    });

    app.post(`/${type}/:id/notes`, onIdWithBody("reactor:notes", NoteCreateBody, { 201: one(Note) }), async (request, reply) => {
      const principal = principalOf(request);
      const resourceId = rowId(kind, request.params.id, label);
      // The resource first: a missing or foreign one is 404 whatever the body says.
      await notes.assertReadable(principal, type, resourceId);
      const { attributes } = checkedData(request);
      const note = await notes.create(principal, type, resourceId, attributes.text);
      return reply.status(201).send({ data: noteResource(note, linkerOf(request)) });
    });
  }

  app.get("/notes/:id", onId("reactor:notes", { 200: one(Note) }), async (request) => {
    const note = await notes.get(principalOf(request), rowId("note", request.params.id, "Note"));
    return { data: noteResource(note, linkerOf(request)) };
  });
};
