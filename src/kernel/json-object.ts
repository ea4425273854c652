// A JSON object stored as text (a tree row's attributes or spec, an audit event's details): read
// back as an object, or as an empty one when the text is not a JSON object (a row written by hand
// or damaged), so one bad row shows empty settings instead of failing every list it is in.
export function parseJsonObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
