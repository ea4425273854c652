// The rules of scoped variables that need no database: key, value and description limits,
// and which rows an owner sees. Both faces reach them through the variables service.
import { AppError } from "../../errors.js";
import type { BuiltInVisibility, VariableScope } from "./variable-types.js";

export const MAX_KEY_LENGTH = 255;
export const MAX_DESCRIPTION_LENGTH = 255;
export const MAX_VALUE_BYTES = 1024 * 1024;

const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A broken rule, naming the field at fault (src/errors.ts). */
function violation(message: string, field?: string): AppError {
  return new AppError("VARIABLE_RULE_VIOLATION", message, field === undefined ? {} : { field });
}

/** The reserved prefix a key starts with (compared case-insensitively), or null. */
export function reservedPrefix(key: string): "QOVERY_" | "LATCH_" | null {
  const upper = key.toUpperCase();
  if (upper.startsWith("QOVERY_")) return "QOVERY_";
  if (upper.startsWith("LATCH_")) return "LATCH_";
  return null;
}

/** Throws a 400 naming the broken rule; keys are case-sensitive and kept as given. */
export function checkKey(key: string, field = "key"): void {
  if (key.length === 0) throw violation("key is required and must not be empty", field);
  if (key.length > MAX_KEY_LENGTH) throw violation(`key must be at most ${MAX_KEY_LENGTH} characters`, field);
  if (!KEY_PATTERN.test(key)) {
    throw violation("key must contain only letters, digits and _, and must not start with a digit", field);
  }
  const reserved = reservedPrefix(key);
  if (reserved === "QOVERY_") throw violation("key must not start with QOVERY_: that prefix is reserved for BUILT_IN variables", field);
  if (reserved === "LATCH_") throw violation("key must not start with LATCH_: that prefix is reserved for Latch's own variables", field);
}

export function checkDescription(description: string | null | undefined): void {
  if (description != null && description.length > MAX_DESCRIPTION_LENGTH) {
    throw violation(`description must be at most ${MAX_DESCRIPTION_LENGTH} characters`, "description");
  }
}

export function checkValue(value: string | null | undefined, field = "value"): void {
  if (value != null && Buffer.byteLength(value, "utf8") > MAX_VALUE_BYTES) {
    throw violation(`value must be at most 1 MiB (${MAX_VALUE_BYTES} bytes)`, field);
  }
  // No process environment, C string or dotenv file can carry NUL: a value holding one would be
  // cut short or dropped where it is used. Binary content belongs in a file variable, base64-encoded.
  if (value?.includes("\0")) {
    throw violation("value must not contain the NUL character (U+0000); store binary content base64-encoded", field);
  }
}

export const MAX_MOUNT_PATH_LENGTH = 4096;

/**
 * A file variable's mount path is absolute and normalized, so that two spellings of one path
 * (`/etc//app.conf`, `/etc/./app.conf`, `/etc/x/../app.conf`) cannot pass the uniqueness rule
 * (mount-paths.ts) and then land on one file: it starts with `/`, has no empty, `.` or `..`
 * segment (no `//`, no trailing `/`, so never `/` itself) and no control character.
 */
export function checkMountPath(mountPath: string | null | undefined): void {
  if (mountPath == null) return;
  const field = "mount_path";
  if (mountPath.trim() === "") throw violation("mount_path must not be empty for a file variable; omit it or send null", field);
  if (mountPath.length > MAX_MOUNT_PATH_LENGTH) throw violation(`mount_path must be at most ${MAX_MOUNT_PATH_LENGTH} characters`, field);
  if (!mountPath.startsWith("/")) throw violation("mount_path must be an absolute path (start with /)", field);
  if (/\p{Cc}/u.test(mountPath)) throw violation("mount_path must not contain control characters", field);
  const segments = mountPath.slice(1).split("/");
  if (segments.some((segment) => segment === "" || segment === "." || segment === "..")) {
    throw violation("mount_path must be normalized: no empty, . or .. segment (no //, no trailing /)", field);
  }
}

/** Where a row sits in the tree, enough to decide who sees it. */
export interface Placed {
  projectId: string;
  environmentId: string | null;
  serviceId: string | null;
  scope: VariableScope;
  builtInVisibility: BuiltInVisibility | null;
  producerServiceId: string | null;
}

/** The point of view: a project (environment and service null), an environment, or a service. */
export interface Viewpoint {
  projectId: string;
  environmentId: string | null;
  serviceId: string | null;
}

/**
 * What a viewpoint sees: its project's PROJECT rows, its environment's ENVIRONMENT rows and
 * BUILT_IN rows meant for the whole environment, its producer-only BUILT_IN rows, and its own.
 */
export function isVisibleFrom(row: Placed, from: Viewpoint): boolean {
  if (row.projectId !== from.projectId) return false;
  if (row.environmentId === null) return true;
  if (from.environmentId === null || row.environmentId !== from.environmentId) return false;
  if (row.scope === "BUILT_IN") {
    return row.builtInVisibility === "ENVIRONMENT" || (from.serviceId !== null && row.producerServiceId === from.serviceId);
  }
  if (row.serviceId === null) return true;
  return row.serviceId === from.serviceId;
}

/**
 * Whether what an environment's services see of `row` differs between them (isVisibleFrom with
 * one service or another): a row of their environment that is a service's own, or a BUILT_IN
 * meant for its producer. Any other row is seen by all of them or by none.
 */
export function seenByServiceOf(row: Placed, environment: { projectId: string; environmentId: string }): boolean {
  if (row.projectId !== environment.projectId || row.environmentId === null || row.environmentId !== environment.environmentId)
    return false;
  return row.scope === "BUILT_IN" ? row.builtInVisibility !== "ENVIRONMENT" : row.serviceId !== null;
}

/** A row under the viewpoint that it does not see (a narrower scope): aliasing or overriding it is "to a higher scope". */
export function isBelow(row: Placed, from: Viewpoint): boolean {
  if (row.projectId !== from.projectId || isVisibleFrom(row, from)) return false;
  if (from.environmentId === null) return true;
  return from.serviceId === null && row.environmentId === from.environmentId;
}
