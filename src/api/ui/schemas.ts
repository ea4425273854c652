// Pieces the dashboard's response schemas share. Each response schema is an allowlist: a field
// that is not named here does not reach the page.

/** A nullable field, as a type list (Ajv's coercion rewrites null inside anyOf unions). */
export const Nullable = (type: string) => ({ type: [type, "null"] });

/** The service a screen is about. */
export const ServiceSummary = {
  type: "object",
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    type: { type: "string" },
    project_id: { type: "string" },
    environment_id: { type: "string" },
  },
} as const;
