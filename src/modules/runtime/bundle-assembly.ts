// A runtime bundle assembled from its service's three opened layers: resolved, serialized to the
// bytes the runtime route sends, and hashed for its ETag. Synchronous and pure (no storage, no
// keys): it runs in the bundle worker (bundle-worker.ts), or on the event loop when no worker
// runs (bundle-builder.ts).
import { createHash } from "node:crypto";
import { toReactorId } from "../../kernel/ids.js";
import { credentialVariableName } from "../credentials/credential-types.js";
import { isDeliverable } from "../credentials/deliverable.js";
import type { Service } from "../tree/tree-types.js";
import { resolveForViewpoint } from "../variables/resolve.js";
import type { LayerContent } from "./layer-snapshot.js";

export interface RuntimeBundle {
  service: { id: string; name: string; type: string };
  variables: Record<string, string>;
  files: Array<{ key: string; mount_path: string; content_base64: string }>;
  credentials: Record<string, { id: string; type_of: string; expires_at: string | null }>;
  unresolved: string[];
}

/** What a bundle says of its service and where its layers are. */
export type BundleService = Pick<Service, "id" | "name" | "type" | "projectId" | "environmentId">;

export interface AssembledBundle {
  /** The RuntimeBundle as sent: its JSON's UTF-8 bytes. */
  body: Buffer;
  /** A strong ETag of the bundle's content (of `body`). */
  etag: string;
  /** When the first credential artifact in it expires (ms since epoch; Infinity for none). */
  validUntil: number;
}

/**
 * The bundle of `service` from its project, environment and own layers, at `moment` (ms since
 * epoch). Credentials of the environment are delivered with their current artifact unless it has
 * expired (a refresh that kept failing): a workload gets no token rather than a dead one, and a
 * `{{LATCH_CREDENTIAL_X}}` reference to it is listed unresolved. `validUntil` is when the first
 * artifact delivered expires, so a cached bundle is not served past it.
 */
export function assembleBundle(
  service: BundleService,
  [project, environment, own]: readonly [LayerContent | undefined, LayerContent | undefined, LayerContent | undefined],
  moment: number,
): AssembledBundle {
  const extra: Record<string, string> = {};
  const listed: RuntimeBundle["credentials"] = {};
  const at = new Date(moment);
  let validUntil = Number.POSITIVE_INFINITY;
  for (const credential of environment?.credentials ?? []) {
    if (!isDeliverable(credential, at)) continue;
    const expiresAt = credential.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(credential.expiresAt);
    validUntil = Math.min(validUntil, expiresAt);
    extra[credentialVariableName(credential.name)] = credential.artifact;
    listed[credential.name] = {
      id: toReactorId("credential", credential.id),
      type_of: credential.typeOf,
      expires_at: credential.expiresAt,
    };
  }
  const rows = [...(project?.variables ?? []), ...(environment?.variables ?? []), ...(own?.variables ?? [])];
  const resolved = resolveForViewpoint(
    rows,
    { projectId: service.projectId, environmentId: service.environmentId, serviceId: service.id },
    extra,
  );
  const bundle: RuntimeBundle = {
    service: { id: service.id, name: service.name, type: service.type },
    variables: resolved.variables,
    files: resolved.files.map((file) => ({
      key: file.key,
      mount_path: file.mount_path,
      content_base64: Buffer.from(file.content, "utf8").toString("base64"),
    })),
    credentials: listed,
    unresolved: resolved.unresolved,
  };
  // JSON.stringify gives what the route's response schema would (the bundle is built in the
  // schema's shape, no extra fields), byte for byte; the ETag hashes exactly what is sent.
  const body = Buffer.from(JSON.stringify(bundle), "utf8");
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 32)}"`;
  return { body, etag, validUntil };
}
