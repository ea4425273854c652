// The private directory `latch run` writes file variables into, and the child's environment.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import type { RuntimeFile } from "../../sdk/index.js";
import { CommandFailed, UsageError } from "../errors.js";

/**
 * Makes the directory for file variables: the one given (which must not exist yet or be empty,
 * since it is removed afterwards) or a fresh one under the system temp dir. Always mode 0700.
 */
export function createFilesDir(given: string | undefined): string {
  if (given === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "latch-run-"));
    chmodSync(dir, 0o700);
    return dir;
  }
  const dir = resolve(given);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UsageError(`--files-dir ${given} exists and is not a directory`);
    if (readdirSync(dir).length > 0) throw new UsageError(`--files-dir ${given} is not empty; it is removed when the command ends`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

/** Where a mount path lands inside the directory; a path that would leave it is refused. */
export function fileTarget(dir: string, mountPath: string): string {
  const relative = mountPath.replace(/^[/\\]+/, "");
  const target = resolve(dir, relative);
  if (relative === "" || !target.startsWith(dir + sep)) {
    throw new CommandFailed(`the mount path ${JSON.stringify(mountPath)} does not name a file inside the files directory`);
  }
  return target;
}

/** Writes every file (0600, parents 0700) and answers KEY → the absolute path written. */
export function writeFiles(dir: string, files: RuntimeFile[]): Record<string, string> {
  // Null prototype: a key such as `__proto__` is an ordinary entry, not the object's prototype.
  const paths: Record<string, string> = Object.create(null);
  for (const file of files) {
    const target = fileTarget(dir, file.mount_path);
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    writeFileSync(target, Buffer.from(file.content_base64, "base64"), { mode: 0o600 });
    chmodSync(target, 0o600);
    paths[file.key] = target;
  }
  return paths;
}

/** Empties the directory but keeps it (a --watch restart rewrites the files). */
export function emptyDir(dir: string): void {
  for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The child's environment: the inherited one and the bundle (variables, then each file variable
 * as the path of its file). The bundle wins unless `override` is false. LATCH_TOKEN is dropped:
 * the workload gets its values, not the token that reads them.
 */
export function childEnvironment(
  inherited: Record<string, string | undefined>,
  variables: Record<string, string>,
  filePaths: Record<string, string>,
  override: boolean,
): { env: Record<string, string>; dropped: string[] } {
  // Maps, then a null-prototype object: a variable named `__proto__` (or `constructor`) is an
  // ordinary name here; assigned into a plain object it would be dropped.
  const base = new Map<string, string>();
  for (const [key, value] of Object.entries(inherited)) if (value !== undefined && key !== "LATCH_TOKEN") base.set(key, value);
  const bundle = new Map<string, string>();
  const dropped: string[] = [];
  // An environment entry cannot hold "=" in its name nor NUL anywhere; spawn would refuse them all.
  for (const [key, value] of new Map([...Object.entries(variables), ...Object.entries(filePaths)])) {
    if (key === "" || key.includes("=") || key.includes("\0") || value.includes("\0")) dropped.push(key);
    else bundle.set(key, value);
  }
  const env: Record<string, string> = Object.create(null);
  for (const [key, value] of override ? [...base, ...bundle] : [...bundle, ...base]) env[key] = value;
  return { env, dropped };
}
