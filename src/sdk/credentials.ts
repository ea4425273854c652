// Credentials (Reactor "secrets") through the Reactor JSON:API face. Ids may be given either as
// Reactor ids (`PR…`, `EN…`, `SE…`) or as the row UUIDs the Qovery face shows: both name one row.
import type { HttpResponse, Transport } from "./http.js";
import type { Credential, CredentialAction, CredentialInput, CredentialUpdate, ListQuery, Note } from "./types.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The Reactor id of a row given by its UUID or already by its Reactor id.
 * @example reactorId("PR", "5b0c…-…") // "PR5b0c…"
 */
export function reactorId(prefix: "CO" | "PR" | "EN" | "SE" | "NT", id: string): string {
  return UUID.test(id) ? `${prefix}${id.replace(/-/g, "").toLowerCase()}` : id;
}

interface Resource {
  id: string;
  type: string;
  attributes?: Record<string, unknown>;
  relationships?: Record<string, { data?: { id: string; type: string } | null; meta?: Record<string, unknown> }>;
  meta?: Record<string, unknown>;
}

interface Document {
  data: Resource | Resource[] | null;
  meta?: { pagination?: { next_page?: number | null } };
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function toCredential(resource: Resource): Credential {
  const a = resource.attributes ?? {};
  const environment = resource.relationships?.environment;
  return {
    id: resource.id,
    name: str(a.name) ?? "",
    type_of: str(a.type_of) ?? "",
    status: str(a.status) ?? "",
    created_at: str(a.created_at) ?? "",
    updated_at: str(a.updated_at) ?? "",
    activated_at: str(a.activated_at),
    expires_at: str(a.expires_at),
    refresh_at: str(a.refresh_at),
    credentials: (a.credentials as Record<string, unknown> | undefined) ?? {},
    property_id: resource.relationships?.property?.data?.id ?? null,
    environment_id: environment?.data?.id ?? null,
    stage: str(environment?.meta?.stage),
    meta: resource.meta ?? {},
  };
}

function toNote(resource: Resource): Note {
  const a = resource.attributes ?? {};
  return {
    id: resource.id,
    text: str(a.text) ?? "",
    author_display_name: str(a.author_display_name),
    author_email: str(a.author_email),
    created_at: str(a.created_at) ?? "",
  };
}

function one(document: Document): Resource {
  if (document.data === null || Array.isArray(document.data)) throw new TypeError("expected one JSON:API resource");
  return document.data;
}

const p = encodeURIComponent;

export function createCredentialsApi(http: Transport) {
  async function listAll(path: string, query: ListQuery = {}): Promise<Resource[]> {
    const params: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(query.filter ?? {})) params[`filter[${name}]`] = value;
    if (query.sort !== undefined) params.sort = query.sort;
    const size = query.page?.size ?? 100;
    let page: number | null = query.page?.number ?? 1;
    const all: Resource[] = [];
    // Follows meta.pagination.next_page unless the caller asked for one page.
    while (page !== null) {
      const response: HttpResponse<Document> = await http.request<Document>("GET", path, {
        jsonApi: true,
        query: { ...params, "page[number]": page, "page[size]": size },
      });
      const data = response.body.data;
      if (Array.isArray(data)) all.push(...data);
      const next: number | null = response.body.meta?.pagination?.next_page ?? null;
      page = query.page?.number !== undefined || next === null || next <= page ? null : next;
    }
    return all;
  }

  async function patch(id: string, data: Record<string, unknown>): Promise<Credential> {
    const secretId = reactorId("SE", id);
    const body = { data: { id: secretId, type: "secrets", ...data } };
    return toCredential(one((await http.request<Document>("PATCH", `/reactor/secrets/${p(secretId)}`, { jsonApi: true, body })).body));
  }

  const api = {
    /**
     * Lists the credentials of a project (property) or of an environment, every page.
     * @example const failed = await client.credentials.list({ projectId }, { filter: { status: "EQ failed" } })
     */
    async list(owner: { projectId: string } | { environmentId: string }, query: ListQuery = {}): Promise<Credential[]> {
      const path =
        "projectId" in owner
          ? `/reactor/properties/${p(reactorId("PR", owner.projectId))}/secrets`
          : `/reactor/environments/${p(reactorId("EN", owner.environmentId))}/secrets`;
      return (await listAll(path, query)).map(toCredential);
    },

    /**
     * Creates a credential; it starts `pending` while Latch exchanges it.
     * @example await client.credentials.create(projectId, { name: "crm", type_of: "oauth2", credentials: { client_id, client_secret, token_url }, environment_id: envId })
     */
    async create(projectId: string, input: CredentialInput): Promise<Credential> {
      const data: Record<string, unknown> = {
        type: "secrets",
        attributes: { name: input.name, type_of: input.type_of, credentials: input.credentials },
      };
      if (input.environment_id) {
        data.relationships = { environment: { data: { id: reactorId("EN", input.environment_id), type: "environments" } } };
      }
      const url = `/reactor/properties/${p(reactorId("PR", projectId))}/secrets`;
      return toCredential(one((await http.request<Document>("POST", url, { jsonApi: true, body: { data } })).body));
    },

    /**
     * Reads one credential (hidden fields are never answered).
     * @example const { status } = await client.credentials.get("SE…")
     */
    async get(id: string): Promise<Credential> {
      const url = `/reactor/secrets/${p(reactorId("SE", id))}`;
      return toCredential(one((await http.request<Document>("GET", url, { jsonApi: true })).body));
    },

    /**
     * Runs an action: `test` (exchange without saving), `retry` or `reauthorize`.
     * @example const tested = await client.credentials.act("SE…", "test"); console.log(tested.meta.test_exchange)
     */
    async act(id: string, action: CredentialAction, typeOf?: string): Promise<Credential> {
      const type_of = typeOf ?? (await api.get(id)).type_of;
      return patch(id, { attributes: { type_of }, meta: { action } });
    },

    /**
     * Changes the name or the credential fields; the credential is exchanged again.
     * @example await client.credentials.update("SE…", { type_of: "simple-http", credentials: { username, password } })
     */
    async update(id: string, update: CredentialUpdate): Promise<Credential> {
      return patch(id, { attributes: update });
    },

    /**
     * Deletes a credential at once.
     * @example await client.credentials.remove("SE…")
     */
    async remove(id: string): Promise<void> {
      await http.request("DELETE", `/reactor/secrets/${p(reactorId("SE", id))}`, { jsonApi: true });
    },

    /**
     * Lists the notes of a credential.
     * @example for (const n of await client.credentials.notes("SE…")) console.log(n.text)
     */
    async notes(id: string): Promise<Note[]> {
      return (await listAll(`/reactor/secrets/${p(reactorId("SE", id))}/notes`)).map(toNote);
    },

    /**
     * Adds a note (at most 512 characters; notes cannot be edited).
     * @example await client.credentials.addNote("SE…", "rotated after the incident")
     */
    async addNote(id: string, text: string): Promise<Note> {
      const url = `/reactor/secrets/${p(reactorId("SE", id))}/notes`;
      const body = { data: { type: "notes", attributes: { text } } };
      return toNote(one((await http.request<Document>("POST", url, { jsonApi: true, body })).body));
    },

    /**
     * Polls a credential until it leaves `pending` (or the time runs out).
     * @example const done = await client.credentials.waitFor("SE…", { timeoutMs: 60_000 })
     */
    async waitFor(
      id: string,
      options: { timeoutMs?: number; intervalMs?: number; onPoll?: (credential: Credential) => void } = {},
    ): Promise<Credential> {
      const deadline = Date.now() + (options.timeoutMs ?? 60_000);
      for (;;) {
        const credential = await api.get(id);
        options.onPoll?.(credential);
        if (credential.status !== "pending" || Date.now() >= deadline) return credential;
        await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1000));
      }
    },
  };
  return api;
}
