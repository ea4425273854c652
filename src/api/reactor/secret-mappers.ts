// Credentials and notes → Reactor `secrets` and `notes` resources. Only the shown credential
// fields leave (the domain view holds no ciphertext); meta carries status details and, in the
// one response that made them, the oauth2-google consent URL or a test exchange's answer.

import { type ReactorKind, toReactorId } from "../../kernel/ids.js";
import type { Credential } from "../../modules/credentials/credential-mappers.js";
import type { CredentialResult } from "../../modules/credentials/credentials-service-types.js";
import { emailOf } from "../../modules/notes/notes-service.js";
import type { Note, NoteResourceType } from "../../modules/notes/notes-types.js";
import { stageOfMode } from "../../modules/tree/tree-types.js";
import { type Linker, RESOURCE_TYPE, type Resource } from "./document.js";
import type { FilterableRecord } from "./query.js";

/** The filters Reactor documents for secrets lists. */
export const SECRET_FILTERS = ["created_at", "environment_id", "name", "status", "type_of", "updated_at"] as const;
export const NOTE_FILTERS = ["created_at", "updated_at", "text"] as const;

export function secretResource(result: CredentialResult, linker: Linker): Resource<Record<string, unknown>> {
  const { credential } = result;
  const id = toReactorId("credential", credential.id);
  const propertyId = toReactorId("project", credential.projectId);
  const meta: Record<string, unknown> = { refresh_status: credential.refreshStatus };
  if (credential.statusDetails !== null) meta.status_details = credential.statusDetails;
  if (credential.refreshStatusDetails !== null) meta.refresh_status_details = credential.refreshStatusDetails;
  if (result.testExchange !== undefined) meta.test_exchange = result.testExchange;
  if (result.authorization !== undefined) {
    meta.authorization_url = result.authorization.url;
    meta.authorization_url_expires_at = result.authorization.expiresAt;
  }
  return {
    id,
    type: RESOURCE_TYPE.credential,
    attributes: {
      created_at: credential.createdAt,
      updated_at: credential.updatedAt,
      name: credential.name,
      type_of: credential.typeOf,
      activated_at: credential.activatedAt,
      expires_at: credential.expiresAt,
      refresh_at: credential.refreshAt,
      status: credential.status,
      created_by_email: emailOf(credential.createdByName),
      created_by_display_name: credential.createdByName,
      updated_by_email: emailOf(credential.updatedByName),
      updated_by_display_name: credential.updatedByName,
      credentials: credential.credentials,
    },
    relationships: {
      property: {
        links: { related: linker.url(`/secrets/${id}/property`) },
        data: { id: propertyId, type: RESOURCE_TYPE.project },
      },
      environment: {
        links: { related: linker.url(`/secrets/${id}/environment`) },
        data:
          credential.environmentId === null
            ? null
            : { id: toReactorId("environment", credential.environmentId), type: RESOURCE_TYPE.environment },
        ...(credential.environmentMode === null ? {} : { meta: { stage: stageOfMode(credential.environmentMode) } }),
      },
      notes: { links: { related: linker.url(`/secrets/${id}/notes`) } },
      data_elements: { links: { related: linker.url(`/secrets/${id}/data_elements`) } },
    },
    links: { self: linker.url(`/secrets/${id}`), property: linker.url(`/secrets/${id}/property`) },
    meta,
  };
}

/** What secrets filters and sorts compare: the attributes plus environment_id as the client names it. */
export function secretView(credential: Credential): FilterableRecord {
  return {
    id: toReactorId("credential", credential.id),
    created_at: credential.createdAt,
    updated_at: credential.updatedAt,
    name: credential.name,
    type_of: credential.typeOf,
    status: credential.status,
    environment_id: credential.environmentId === null ? null : toReactorId("environment", credential.environmentId),
    activated_at: credential.activatedAt,
    expires_at: credential.expiresAt,
    refresh_at: credential.refreshAt,
  };
}

/** The kind of id each noted collection uses. */
const NOTE_RESOURCE_KINDS: Record<NoteResourceType, ReactorKind> = {
  secrets: "credential",
  properties: "project",
  environments: "environment",
  hosts: "host",
};

export function noteResource(note: Note, linker: Linker): Resource<Record<string, unknown>> {
  const id = toReactorId("note", note.id);
  const resourceId = toReactorId(NOTE_RESOURCE_KINDS[note.resourceType as NoteResourceType] ?? "credential", note.resourceId);
  const resourcePath = `/${note.resourceType}/${resourceId}`;
  return {
    id,
    type: RESOURCE_TYPE.note,
    attributes: {
      created_at: note.createdAt,
      updated_at: note.updatedAt,
      text: note.text,
      author_display_name: note.authorDisplayName,
      author_email: note.authorEmail === "" ? null : note.authorEmail,
    },
    relationships: {
      resource: { links: { related: linker.url(resourcePath) }, data: { id: resourceId, type: note.resourceType } },
    },
    links: { self: linker.url(`/notes/${id}`), resource: linker.url(resourcePath) },
  };
}

export function noteView(note: Note): FilterableRecord {
  return { id: toReactorId("note", note.id), created_at: note.createdAt, updated_at: note.updatedAt, text: note.text };
}
