// Credentials (Reactor `secrets`): create, read, update, delete, and the actions in
// credential-actions.ts. Rules live here once: edge properties only, names unique per property
// (also in their LATCH_CREDENTIAL_ form), at most one environment that never moves, required
// fields per type. A create or a credentials change writes the row and its exchange job in one
// transaction; the exchange itself runs later in a worker (no network inside a transaction).
import type { Config } from "../../config.js";
import type { Keyring } from "../../crypto/keyring.js";
import { isForeignKeyViolation, isUniqueViolation } from "../../db/errors.js";
import { listGenerationOf } from "../../db/generations.js";
import type { CredentialsTable, Db, Tx } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { assertAllowed, canSeeCredential } from "../../kernel/authorize.js";
import { newId } from "../../kernel/ids.js";
import type { Permission, Principal } from "../../kernel/principal.js";
import type { NotesStore } from "../notes/notes-store.js";
import type { TreeHooks } from "../tree/tree-hooks.js";
import type { TreeService } from "../tree/tree-service.js";
import type { TreeStore } from "../tree/tree-store.js";
import type { Environment, Project } from "../tree/tree-types.js";
import type { CredentialHistory } from "../versions/credential-history.js";
import type { CreationLimit } from "./creation-limit.js";
import { createCredentialActions } from "./credential-actions.js";
import type { Credential } from "./credential-mappers.js";
import { cipherRef, credentialVariableName, type Provider, providerOf, TYPE_OFS, type TypeOf } from "./credential-types.js";
import { validateCredentials, validName } from "./credential-validation.js";
import type {
  Authorization,
  CreateCredentialInput,
  CredentialResult,
  GoogleAuthorizer,
  TestExchangeResult,
  UpdateCredentialInput,
} from "./credentials-service-types.js";
import type { CredentialsStore } from "./credentials-store.js";
import { enqueueExchange } from "./exchange-queue.js";

export interface CredentialsServiceDeps {
  db: Db;
  store: CredentialsStore;
  notes: Pick<NotesStore, "deleteFor">;
  tree: Pick<TreeService, "loadProject" | "loadEnvironment">;
  treeStore: Pick<TreeStore, "findEnvironment">;
  keyring: Pick<Keyring, "encrypt">;
  config: Pick<Config, "outboundAllowHttp">;
  /** Given by the exchange engine; null while it is not wired (oauth2-google then answers 503). */
  google: GoogleAuthorizer | null;
  testExchange: ((credentialId: string) => Promise<TestExchangeResult>) | null;
  /** Versions and audit events of every change, in the change's transaction. */
  history: Pick<CredentialHistory, "changed" | "deleted" | "tested">;
  /** Creations per organization (LATCH_CREDENTIAL_CREATES_PER_MINUTE); none: no limit. */
  creationLimit?: Pick<CreationLimit, "take">;
  /** Told after a committed create or update enqueued an exchange (this process's workers look at once). */
  onEnqueued?: () => void;
  now?: () => Date;
}

export function scopeOf(credential: Pick<Credential, "organizationId" | "projectId" | "environmentId">) {
  return { organizationId: credential.organizationId, projectId: credential.projectId, environmentId: credential.environmentId };
}

export function createCredentialsService(deps: CredentialsServiceDeps) {
  const { db, store, tree, treeStore, keyring } = deps;
  const now = deps.now ?? (() => new Date());

  async function load(actor: Principal, id: string, permission: Permission): Promise<Credential> {
    const credential = await store.find(id);
    if (credential === undefined || !canSeeCredential(actor, credential)) throw new AppError("NOT_FOUND", "Secret not found");
    assertAllowed(actor, permission, scopeOf(credential), "Secret");
    return credential;
  }

  async function reload(id: string): Promise<Credential> {
    const credential = await store.find(id);
    if (credential === undefined) throw new AppError("NOT_FOUND", "Secret not found");
    return credential;
  }

  /** Runs a write; a name race on the unique index is the same 422 as the pre-check. */
  async function write<T>(name: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      if (isUniqueViolation(error)) throw notUnique(name);
      if (isForeignKeyViolation(error)) {
        throw new AppError("UNPROCESSABLE", "The property or environment was deleted meanwhile", { field: "environment_id" });
      }
      throw error;
    }
  }

  function notUnique(name: string): AppError {
    return new AppError(
      "NOT_UNIQUE",
      `the 'name' property must be unique: another secret in this property is named '${name}' or has the same ${credentialVariableName(name)} variable name`,
      { field: "name" },
    );
  }

  function providerFor(typeOf: TypeOf): Provider {
    const provider = typeof typeOf === "string" ? providerOf(typeOf) : null;
    if (provider === null) throw new AppError("UNPROCESSABLE", `type_of must be one of ${TYPE_OFS.join(", ")}`, { field: "type_of" });
    return provider;
  }

  /** The environment a credential is attached to: it must belong to the same property. */
  async function environmentIn(project: Pick<Project, "id">, environmentId: string): Promise<Environment> {
    const environment = await treeStore.findEnvironment(environmentId);
    if (environment === undefined || environment.projectId !== project.id) {
      throw new AppError("UNPROCESSABLE", "environment_id names no environment of this project", { field: "environment_id" });
    }
    return environment;
  }

  function googleAuthorizer(): GoogleAuthorizer {
    if (deps.google === null) throw new AppError("NOT_READY", "oauth2-google authorization is not available on this server");
    return deps.google;
  }

  function authorize(id: string, organizationId: string, scopes: unknown): { authorization: Authorization; nonceHash: string } {
    const made = googleAuthorizer().authorizationUrl({ id, organizationId, scopes: Array.isArray(scopes) ? (scopes as string[]) : [] });
    return { authorization: { url: made.url, expiresAt: made.expiresAt.toISOString() }, nonceHash: made.nonceHash };
  }

  async function seal(organizationId: string, id: string, hidden: Record<string, unknown>): Promise<Buffer> {
    return keyring.encrypt(organizationId, cipherRef(id, "secret_credentials"), JSON.stringify(hidden));
  }

  /** A type_of in an update or action must name the secret's own type (aliases are equal). */
  function checkTypeOf(credential: Credential, typeOf: TypeOf | undefined): void {
    if (typeOf === undefined) return;
    const provider = typeof typeOf === "string" ? providerOf(typeOf) : null;
    if (provider !== credential.provider) {
      throw new AppError(
        "UNPROCESSABLE",
        `type_of does not match this credential, which is ${credential.typeOf}; a credential's type cannot change`,
        { field: "type_of" },
      );
    }
  }

  const actions = createCredentialActions({ ...deps, load, reload, checkTypeOf, authorize, now });

  return {
    ...actions,
    load,

    /** Tree changes credentials follow, in the change's transaction. */
    treeHooks: {
      async deleting(tx: Tx, resource: { kind: "environment" | "host"; id: string }): Promise<void> {
        if (resource.kind === "environment") await store.detachEnvironment(resource.id, now().toISOString(), tx);
      },
    } satisfies TreeHooks,

    async get(actor: Principal, id: string): Promise<Credential> {
      return load(actor, id, "read");
    },

    async listForProject(actor: Principal, projectId: string): Promise<Credential[]> {
      await tree.loadProject(actor, projectId, "read");
      return (await store.listByProject(projectId)).filter((credential) => canSeeCredential(actor, credential));
    },

    /**
     * Pages of a property's credentials read by the database, for an actor who sees the whole
     * property (a list of 10,000 is not loaded to show 100); null for an actor restricted to an
     * environment, whose caller filters the full list as listForProject does. Authorizes and
     * reads the generation of the project's credentials now (src/db/generations.ts,
     * `listGenerationOf`: a variable write leaves it), a page and the total only on `load`.
     */
    async pagingForProject(
      actor: Principal,
      projectId: string,
    ): Promise<{
      generation: string;
      load(page: { offset: number; limit: number }): Promise<{ items: Credential[]; total: number }>;
    } | null> {
      await tree.loadProject(actor, projectId, "read");
      if (actor.environmentId !== null || actor.serviceId !== null) return null;
      return {
        generation: await listGenerationOf(db, [`credentials:${projectId}`]),
        load: async (page) => ({
          items: await store.pageByProject(projectId, page.offset, page.limit),
          total: await store.countByProject(projectId),
        }),
      };
    },

    async listForEnvironment(actor: Principal, environmentId: string): Promise<Credential[]> {
      await tree.loadEnvironment(actor, environmentId, "read");
      return store.listByEnvironment(environmentId);
    },

    async propertyOf(actor: Principal, id: string): Promise<Project> {
      const credential = await load(actor, id, "read");
      return tree.loadProject(actor, credential.projectId, "read");
    },

    async environmentOf(actor: Principal, id: string): Promise<Environment | null> {
      const credential = await load(actor, id, "read");
      return credential.environmentId === null ? null : tree.loadEnvironment(actor, credential.environmentId, "read");
    },

    async create(actor: Principal, projectId: string, input: CreateCredentialInput): Promise<CredentialResult> {
      const project = await tree.loadProject(actor, projectId, "read");
      const environment = input.environmentId == null ? null : await environmentIn(project, input.environmentId);
      assertAllowed(
        actor,
        "write",
        { organizationId: project.organizationId, projectId, environmentId: environment?.id ?? null },
        "Secret",
      );
      if (project.platform !== "edge") {
        throw new AppError(
          "UNPROCESSABLE",
          `Secrets can only be created in edge properties; this property's platform is ${project.platform}`,
        );
      }
      const name = validName(input.name);
      const provider = providerFor(input.typeOf);
      const typeOf = input.typeOf;
      const { shown, hidden } = validateCredentials(provider, typeOf, input.credentials, { allowHttp: deps.config.outboundAllowHttp });
      // After the checks, so a refused or invalid request spends nothing.
      deps.creationLimit?.take(project.organizationId);

      const id = newId();
      const sealed = await seal(project.organizationId, id, hidden);
      // Read the clock first: the consent URL then lives at least an hour from created_at.
      const at = now();
      const google = provider === "oauth2-google" ? authorize(id, project.organizationId, shown.scopes) : null;
      const row: CredentialsTable = {
        id,
        organization_id: project.organizationId,
        project_id: projectId,
        environment_id: environment?.id ?? null,
        name,
        variable_name: credentialVariableName(name),
        type_of: typeOf,
        provider,
        public_credentials: JSON.stringify(shown),
        secret_credentials: sealed,
        artifact: null,
        refresh_token: null,
        status: "pending",
        status_details: null,
        refresh_status: null,
        refresh_status_details: null,
        activated_at: null,
        expires_at: null,
        refresh_at: null,
        authorization_nonce: google?.nonceHash ?? null,
        authorization_url_expires_at: google?.authorization.expiresAt ?? null,
        generation: 1,
        created_by_name: actor.name,
        updated_by_name: actor.name,
        created_at: at.toISOString(),
        updated_at: at.toISOString(),
      };
      await write(name, async (tx) => {
        if (await store.variableNameTaken(projectId, row.variable_name, null, tx)) throw notUnique(name);
        await store.insert(row, tx);
        // oauth2-google waits for the browser consent; its callback enqueues the exchange.
        if (google === null) {
          await enqueueExchange(
            tx,
            { credentialId: id, organizationId: row.organization_id, kind: "exchange", generation: 1, runAt: at },
            at,
          );
        }
        await deps.history.changed(tx, actor, id, "create", { secrets: true });
      });
      if (google === null) deps.onEnqueued?.();
      return { credential: await reload(id), ...(google === null ? {} : { authorization: google.authorization }) };
    },

    /**
     * The plain update: name, credentials (replaced whole, hidden fields included: keeping a
     * stored secret while token_url changes would send it to a new address), and attaching an
     * environment when none is set. A credentials change or a new environment re-exchanges.
     */
    async update(actor: Principal, id: string, input: UpdateCredentialInput): Promise<CredentialResult> {
      const current = await load(actor, id, "write");
      checkTypeOf(current, input.typeOf);
      const name = input.name === undefined ? current.name : validName(input.name);
      const validated =
        input.credentials === undefined
          ? null
          : validateCredentials(current.provider, current.typeOf, input.credentials, { allowHttp: deps.config.outboundAllowHttp });

      let attach: Environment | null = null;
      if (input.environmentId !== undefined && input.environmentId !== current.environmentId) {
        if (current.environmentId !== null) {
          throw new AppError(
            "UNPROCESSABLE",
            "A credential's environment cannot change once set; create another credential for the other environment",
            { field: "environment" },
          );
        }
        if (input.environmentId !== null) {
          const project = await tree.loadProject(actor, current.projectId, "read");
          attach = await environmentIn(project, input.environmentId);
          assertAllowed(actor, "write", { ...scopeOf(current), environmentId: attach.id }, "Secret");
        }
      }

      const google =
        validated !== null && current.provider === "oauth2-google" ? authorize(id, current.organizationId, validated.shown.scopes) : null;
      const reexchange = (validated !== null || attach !== null) && current.provider !== "oauth2-google";
      const changes: Partial<CredentialsTable> = { name, variable_name: credentialVariableName(name) };
      if (validated !== null) {
        changes.public_credentials = JSON.stringify(validated.shown);
        changes.secret_credentials = await seal(current.organizationId, id, validated.hidden);
      }
      if (attach !== null) changes.environment_id = attach.id;
      if (validated !== null || attach !== null) {
        changes.generation = current.generation + 1;
        if (reexchange || google !== null) Object.assign(changes, { status: "pending", status_details: null });
      }
      if (google !== null) {
        changes.authorization_nonce = google.nonceHash;
        changes.authorization_url_expires_at = google.authorization.expiresAt;
      }
      const at = now();
      changes.updated_by_name = actor.name;
      changes.updated_at = at.toISOString();

      await write(name, async (tx) => {
        if (name !== current.name && (await store.variableNameTaken(current.projectId, credentialVariableName(name), id, tx))) {
          throw notUnique(name);
        }
        // Guarded by the generation read above: of two concurrent updates, one wins and one is told.
        if (!(await store.update(id, changes, current.generation, tx))) {
          throw new AppError("CONFLICT", "The secret changed while this update ran; read it again and retry");
        }
        if (reexchange) {
          const generation = changes.generation as number;
          await enqueueExchange(
            tx,
            { credentialId: id, organizationId: current.organizationId, kind: "exchange", generation, runAt: at },
            at,
          );
        }
        await deps.history.changed(tx, actor, id, "update", { secrets: validated !== null });
      });
      if (reexchange) deps.onEnqueued?.();
      return { credential: await reload(id), ...(google === null ? {} : { authorization: google.authorization }) };
    },

    async delete(actor: Principal, id: string): Promise<void> {
      await load(actor, id, "write");
      await db.transaction().execute(async (tx) => {
        // Notes go with their secret; the exchange job goes by the foreign key's cascade.
        await deps.notes.deleteFor("secrets", id, tx);
        await deps.history.deleted(tx, actor, id, () => store.delete(id, tx));
      });
    },
  };
}

export type CredentialsService = ReturnType<typeof createCredentialsService>;
