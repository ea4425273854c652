// A runtime layer's snapshot (runtime-layers.ts): its decrypted rows packed as compact JSON and
// sealed (AES-256-GCM) under a key that lives only in this process, with the layer and its
// generation as associated data. Opened where a bundle is assembled: on the event loop, or in
// the bundle worker (bundle-worker.ts), which is why this file imports nothing that touches
// storage or the keyring.
import { open, seal } from "../../crypto/envelope.js";
import type { DeliverableCredential } from "../credentials/deliverable.js";
import type { VariableScope, VariableType } from "../variables/variable-types.js";
import type { LayerRow } from "../variables/variables-service.js";

/** A credential of an environment's layer: what isDeliverable reads, and its current artifact (decrypted). */
export interface LayerCredential extends DeliverableCredential {
  id: string;
  name: string;
  typeOf: string;
  artifact: string;
}

export interface LayerContent {
  variables: LayerRow[];
  /** Only in an environment's layer. */
  credentials: LayerCredential[];
}

/** A layer's snapshot as handed to whoever opens it: its cache id, its generation, its sealed bytes. */
export interface SealedLayer {
  id: string;
  generation: string;
  sealed: Uint8Array;
}

const WHAT = "a runtime layer snapshot";

const aad = (id: string, generation: string) => Buffer.from(`latch:runtime-layer:${id}:${generation}`, "utf8");

type Row = [
  string,
  string,
  string,
  string | null,
  0 | 1,
  string | null,
  boolean | null,
  string | null,
  string,
  string | null,
  string | null,
  string,
  string | null,
  string | null,
  string | null,
];

function pack(content: LayerContent): Buffer {
  const rows: Row[] = content.variables.map((v) => [
    v.id,
    v.key,
    v.variableType,
    v.value,
    v.isSecret ? 1 : 0,
    v.mountPath,
    v.enableInterpolationInFile,
    v.parentId,
    v.projectId,
    v.environmentId,
    v.serviceId,
    v.scope,
    v.builtInVisibility,
    v.producerServiceId,
    v.cipher,
  ]);
  return Buffer.from(JSON.stringify([rows, content.credentials]), "utf8");
}

function unpack(bytes: Buffer): LayerContent {
  const [rows, credentials] = JSON.parse(bytes.toString("utf8")) as [Row[], LayerCredential[]];
  return {
    credentials,
    variables: rows.map((r) => ({
      id: r[0],
      key: r[1],
      variableType: r[2] as VariableType,
      value: r[3],
      isSecret: r[4] === 1,
      mountPath: r[5],
      enableInterpolationInFile: r[6],
      parentId: r[7],
      parentKey: null,
      projectId: r[8],
      environmentId: r[9],
      serviceId: r[10],
      scope: r[11] as VariableScope,
      builtInVisibility: r[12] as LayerRow["builtInVisibility"],
      producerServiceId: r[13],
      cipher: r[14],
    })),
  };
}

/** Seals a layer's content under `key`, bound to the layer's id and generation. */
export function sealLayer(key: Buffer, id: string, generation: string, content: LayerContent): Buffer {
  return seal(key, pack(content), aad(id, generation));
}

/** Opens a snapshot sealed by sealLayer for this id and generation; a tampered or misfiled one throws. */
export function openLayer(key: Buffer, layer: SealedLayer): LayerContent {
  const sealed = Buffer.isBuffer(layer.sealed)
    ? layer.sealed
    : Buffer.from(layer.sealed.buffer, layer.sealed.byteOffset, layer.sealed.byteLength);
  return unpack(open(key, sealed, aad(layer.id, layer.generation), WHAT));
}

/**
 * Opens snapshots under `key`, each id and generation once for as long as the opener is kept: the
 * builds of one batch (bundle-worker.ts) or of one turn of the event loop (bundle-builder.ts)
 * share their project's and environment's layers. Dropped with the opener, so no opened layer
 * outlives the builds that use it.
 */
export function createLayerOpener(key: Buffer): (layer: SealedLayer) => LayerContent {
  const opened = new Map<string, LayerContent>();
  return (layer) => {
    const id = `${layer.id} ${layer.generation}`;
    let content = opened.get(id);
    if (content === undefined) {
      content = openLayer(key, layer);
      opened.set(id, content);
    }
    return content;
  };
}
