// What the credential form knows client-side: fields per type_of (mirroring
// src/modules/credentials/credential-types.ts), the server's default refresh offsets, the lifetime
// rules it can check before sending, and the "4 h 0 min" readout.

export type FieldKind = "string" | "integer" | "object" | "string-array";
export interface FormField {
  name: string;
  kind: FieldKind;
  required: boolean;
  /** Write-only: never prefilled, never shown back. */
  hidden: boolean;
}

const f = (name: string, kind: FieldKind, required: boolean, hidden = false): FormField => ({ name, kind, required, hidden });

export const FORM_TYPES = ["token", "simple-http", "oauth2", "oauth2-jwt", "oauth2-google"] as const;
export type FormType = (typeof FORM_TYPES)[number];

export const FORM_FIELDS: Record<FormType, FormField[]> = {
  token: [f("token", "string", true, true)],
  "simple-http": [f("username", "string", true), f("password", "string", true, true)],
  oauth2: [
    f("client_id", "string", true),
    f("client_secret", "string", true, true),
    f("token_url", "string", true),
    f("refresh_offset", "integer", false),
    f("options", "object", false),
  ],
  "oauth2-jwt": [
    f("iss", "string", true),
    f("aud", "string", true),
    f("ttl", "integer", true),
    f("alg", "string", true),
    f("private_key", "string", true, true),
    f("sub", "string", false),
    f("custom_claims", "object", false),
    f("token_url", "string", false),
    f("private_key_id", "string", false),
    f("refresh_offset", "integer", false),
    f("options", "object", false),
  ],
  "oauth2-google": [f("scopes", "string-array", true)],
};

/** The server's defaults (DEFAULT_REFRESH_OFFSET_S); the form says "server default" beside them. */
export const DEFAULT_REFRESH_OFFSET: Partial<Record<FormType, number>> = { oauth2: 14400, "oauth2-jwt": 1800 };

export function formTypeOf(typeOf: string): FormType {
  if (typeOf === "oauth2-client_credentials") return "oauth2";
  return (FORM_TYPES as readonly string[]).includes(typeOf) ? (typeOf as FormType) : "token";
}

/** 14400 → "4 h 0 min"; under an hour "30 min"; under a minute "45 s". */
export function durationWords(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours === 0 ? `${minutes} min` : `${hours} h ${minutes} min`;
}

const INTEGER = /^\d+$/;

/**
 * Lifetime rules knowable before sending, keyed by field name. The jwt minima mirror the server's
 * defaults (3600 s lifetime, 1800 s gap); an operator can change them, so the text says so.
 */
export function lifetimeProblems(type: FormType, values: Record<string, string>): Record<string, string> {
  const problems: Record<string, string> = {};
  const offsetText = (values.refresh_offset ?? "").trim();
  if (offsetText !== "" && !INTEGER.test(offsetText))
    problems.refresh_offset = "refresh_offset must be a non-negative whole number of seconds";
  if (type === "oauth2-jwt") {
    const ttlText = (values.ttl ?? "").trim();
    if (ttlText !== "" && !INTEGER.test(ttlText)) problems.ttl = "ttl must be a whole number of seconds";
    else if (ttlText !== "") {
      const ttl = Number(ttlText);
      if (ttl <= 3600) problems.ttl = "ttl must exceed 3600 s (server default minimum, LATCH_JWT_MIN_LIFETIME_S)";
      else if (problems.refresh_offset === undefined) {
        const usesDefault = offsetText === "";
        const offset = usesDefault ? (DEFAULT_REFRESH_OFFSET["oauth2-jwt"] ?? 0) : Number(offsetText);
        if (offset >= ttl - 1800) {
          problems.refresh_offset = `refresh_offset${usesDefault ? ` (server default ${offset} s)` : ""} must be less than ttl − 1800 s = ${ttl - 1800} s (server default gap, LATCH_JWT_MIN_REFRESH_GAP_S)`;
        }
      }
    }
  }
  return problems;
}

/** The typed text as the wire value; throws a message for the field when it cannot be read. */
export function wireValue(field: FormField, text: string): unknown {
  if (field.kind === "integer") return Number(text.trim());
  if (field.kind === "string-array") return text.split(/[\s,]+/).filter((item) => item !== "");
  if (field.kind === "object") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${field.name} must be a JSON object`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`${field.name} must be a JSON object`);
    return parsed;
  }
  return text;
}

/** A shown field's value as text for the form (hidden fields never arrive). */
export function textOf(field: FormField, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (field.kind === "object") return JSON.stringify(value);
  if (field.kind === "string-array") return Array.isArray(value) ? value.join(", ") : "";
  return String(value);
}
