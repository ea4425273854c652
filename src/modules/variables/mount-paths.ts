// One file per path: the file variables one service sees never share a mount path. Writes keep
// the rule (create and override check the lineage under a per-path lock, variables-core.ts);
// delivery keeps it too, for rows written before the rule existed.

import type { VariablesTable } from "../../db/types.js";
import { AppError } from "../../errors.js";

/** The 409 of a file variable whose mount path another one the same services see already uses. */
export function mountPathTaken(mountPath: string, other: Pick<VariablesTable, "key" | "scope">): AppError {
  return new AppError("CONFLICT", `mount_path ${mountPath} is already used by the file variable ${other.key} (${other.scope})`, {
    field: "mount_path",
    conflictingKey: other.key,
  });
}

/**
 * The delivery-side guard: of several files at one mount path, the first in key order is kept
 * (the bundle's files are sorted by key), so a bundle never holds two files at one path.
 */
export function oneFilePerMountPath<File extends { mount_path: string }>(files: File[]): File[] {
  const seen = new Set<string>();
  const kept: File[] = [];
  for (const file of files) {
    if (seen.has(file.mount_path)) continue;
    seen.add(file.mount_path);
    kept.push(file);
  }
  return kept;
}
