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
import { resolveOnShared, type SharedResolution, shareResolution } from "../variables/resolve-shared.js";
import { isVisibleFrom, seenByServiceOf, type Viewpoint } from "../variables/rules.js";
import type { LayerRow } from "../variables/variables-service.js";
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
  const { extra, listed, validUntil } = injectedAt(environment, moment);
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
  return sent(JSON.stringify(bundle), validUntil);
}

function sent(json: string | Buffer, validUntil: number): AssembledBundle {
  const body = typeof json === "string" ? Buffer.from(json, "utf8") : json;
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 32)}"`;
  return { body, etag, validUntil };
}

/** The environment's credentials deliverable at `moment`: their variables, their listing, and when the first expires. */
function injectedAt(environment: LayerContent | undefined, moment: number) {
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
  return { extra, listed, validUntil };
}

/** What the services of one environment share in a batch of builds (createBundleAssembler). */
interface SharedPart {
  project: LayerContent | undefined;
  environment: LayerContent | undefined;
  moment: number;
  projectId: string;
  environmentId: string;
  /** The project's and environment's rows every service there sees alike, resolved; null: resolve each bundle in full. */
  resolution: SharedResolution | null;
  /** Their rows whose visibility depends on the service (BUILT_INs meant for their producer). */
  dependent: LayerRow[];
  /** The shared keys serialized (serialized()), when a bundle first needs them. */
  serialized: { bytes: Buffer; offsets: number[] } | null;
  credentialsJson: string;
  validUntil: number;
}

/** Whether a key could be an array index, which JSON.stringify would put before the others: such bundles are serialized whole. */
function indexLike(key: string): boolean {
  const first = key.charCodeAt(0);
  return first >= 48 && first <= 57;
}

function shareOf(
  service: BundleService,
  project: LayerContent | undefined,
  environment: LayerContent | undefined,
  moment: number,
): SharedPart {
  const { extra, listed, validUntil } = injectedAt(environment, moment);
  const all: Viewpoint = { projectId: service.projectId, environmentId: service.environmentId, serviceId: null };
  const common: LayerRow[] = [];
  const dependent: LayerRow[] = [];
  for (const layer of [project, environment]) {
    for (const row of layer?.variables ?? []) {
      if (seenByServiceOf(row, service)) dependent.push(row);
      else if (isVisibleFrom(row, all)) common.push(row);
    }
  }
  let resolution = shareResolution(common, extra);
  if (resolution?.keys.some(indexLike) || dependent.some((row) => indexLike(row.key))) resolution = null;
  return {
    project,
    environment,
    moment,
    projectId: service.projectId,
    environmentId: service.environmentId,
    resolution,
    dependent,
    serialized: null,
    credentialsJson: JSON.stringify(listed),
    validUntil,
  };
}

const fragment = (key: string, value: string) => `${JSON.stringify(key)}:${JSON.stringify(value)}`;

/**
 * Assembles bundles as `assembleBundle` does, byte for byte, resolving and serializing once what
 * the services of one environment share (resolve-shared.ts): a write to a project or an
 * environment rebuilds every polled bundle there (M1: 10 services an environment, ~260 µs each
 * in full, of which ~150 µs resolving and ~80 µs serializing the same 700 shared rows). What it
 * keeps (the opened layers' values, resolved) lives as long as the assembler: one batch in the
 * bundle worker, like the opened layers themselves.
 */
export function createBundleAssembler(): (
  service: BundleService,
  layers: readonly [LayerContent | undefined, LayerContent | undefined, LayerContent | undefined],
  moment: number,
  /** How many builds of this service's environment, at these layers, the caller asks of this assembler: one is assembled in full. */
  builds: number,
) => AssembledBundle {
  const parts: SharedPart[] = [];
  const partOf = (service: BundleService, project: LayerContent | undefined, environment: LayerContent | undefined, moment: number) => {
    for (const part of parts) {
      if (
        part.project === project &&
        part.environment === environment &&
        part.moment === moment &&
        part.projectId === service.projectId &&
        part.environmentId === service.environmentId
      )
        return part;
    }
    const part = shareOf(service, project, environment, moment);
    parts.push(part);
    return part;
  };

  return (service, layers, moment, builds) => {
    // Sharing costs about one and a half assemblies in full (bench/README.md): worth it from two builds.
    if (builds < 2) return assembleBundle(service, layers, moment);
    const [project, environment, own] = layers;
    const part = partOf(service, project, environment, moment);
    const shared = part.resolution;
    if (shared === null) return assembleBundle(service, layers, moment);
    const viewpoint: Viewpoint = { projectId: service.projectId, environmentId: service.environmentId, serviceId: service.id };
    const rows: LayerRow[] = [];
    for (const row of part.dependent) if (isVisibleFrom(row, viewpoint)) rows.push(row);
    for (const row of own?.variables ?? []) {
      if (indexLike(row.key)) return assembleBundle(service, layers, moment);
      if (isVisibleFrom(row, viewpoint)) rows.push(row);
    }
    const resolved = resolveOnShared(shared, rows);
    const { bytes, offsets } = serialized(part, shared);
    // The bundle's bytes: the shared keys' runs copied as they are, the keys delivered anew serialized.
    const pieces: Buffer[] = [];
    const head = `{"service":${JSON.stringify({ id: service.id, name: service.name, type: service.type })},"variables":{`;
    pieces.push(Buffer.from(head, "utf8"));
    const { order } = resolved;
    for (let i = 0; i < order.length; i += 1) {
      if (i > 0) pieces.push(COMMA);
      const at = order[i] as number;
      if (at >= 0) {
        const to = order[++i] as number;
        // Each shared fragment is followed by a comma in `bytes`: the run ends before its last one.
        pieces.push(bytes.subarray(offsets[at], (offsets[to] as number) - 1));
      } else {
        const { key, value } = resolved.fresh[-1 - at] as { key: string; value: string };
        pieces.push(Buffer.from(fragment(key, value), "utf8"));
      }
    }
    const files: RuntimeBundle["files"] = resolved.files.map((file) => ({
      key: file.key,
      mount_path: file.mount_path,
      content_base64: Buffer.from(file.content, "utf8").toString("base64"),
    }));
    // The rest of the RuntimeBundle, in its fields' order, as JSON.stringify writes it in assembleBundle.
    const tail = `},"files":${JSON.stringify(files)},"credentials":${part.credentialsJson},"unresolved":${JSON.stringify(resolved.unresolved)}}`;
    pieces.push(Buffer.from(tail, "utf8"));
    return sent(Buffer.concat(pieces), part.validUntil);
  };
}

const COMMA = Buffer.from(",", "utf8");

/** The shared keys' `"key":"value",` fragments as UTF-8 bytes, and where each starts (and, at the end, where the last ends). */
function serialized(part: SharedPart, shared: SharedResolution): { bytes: Buffer; offsets: number[] } {
  if (part.serialized !== null) return part.serialized;
  const pieces: string[] = [];
  for (let i = 0; i < shared.keys.length; i += 1)
    pieces.push(`${fragment(shared.keys[i] as string, shared.delivered[i]?.value as string)},`);
  const text = pieces.join("");
  const bytes = Buffer.from(text, "utf8");
  // In characters while the text is ASCII (most values): then they are its bytes too.
  const ascii = bytes.length === text.length;
  const offsets: number[] = [];
  let length = 0;
  for (const piece of pieces) {
    offsets.push(length);
    length += ascii ? piece.length : Buffer.byteLength(piece, "utf8");
  }
  offsets.push(length);
  part.serialized = { bytes, offsets };
  return part.serialized;
}
