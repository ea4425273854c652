import { AppError } from "../../errors.js";
import type { ServiceType } from "./tree-types.js";

export const SERVICE_LABEL: Record<ServiceType, string> = {
  APPLICATION: "Application",
  CONTAINER: "Container",
  JOB: "Job",
  HELM: "Helm",
  TERRAFORM: "Terraform",
  DATABASE: "Database",
};

/** What a service is called in messages: its type's label, or "Service" for one of any type. */
export function serviceLabel(type: ServiceType | null): string {
  return type === null ? "Service" : SERVICE_LABEL[type];
}

/** C0 and C1 control characters and DEL (Unicode category Cc), NUL included. */
const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * Whether a name holds a control character once trimmed (a trailing newline from a paste is
 * trimmed, as before): NUL, a line break or an escape inside a name corrupts listings, logs and
 * terminals, and PostgreSQL cannot store NUL in text at all.
 */
export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}

/** The message every face shows for such a name; `field` as the face names it. */
export function controlCharacterMessage(field: string): string {
  return `${field} must not contain control characters (U+0000 to U+001F, U+007F to U+009F)`;
}

export function validName(name: string, what: string): string {
  const trimmed = name.trim();
  const details = { field: "name" };
  if (trimmed === "") throw new AppError("VALIDATION_FAILED", `${what} name must not be empty`, details);
  if (trimmed.length > 255) throw new AppError("VALIDATION_FAILED", `${what} name must be at most 255 characters`, details);
  if (hasControlCharacter(trimmed)) throw new AppError("VALIDATION_FAILED", `${what} ${controlCharacterMessage("name")}`, details);
  return trimmed;
}
