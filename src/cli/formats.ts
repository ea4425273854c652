// Export formats of a runtime bundle besides dotenv: JSON, YAML and a Kubernetes Secret.
import { formatDotenv } from "./dotenv.js";

export const EXPORT_FORMATS = ["dotenv", "json", "yaml", "k8s-secret"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * A YAML double-quoted scalar. JSON string escapes are all valid YAML escapes; the characters YAML
 * does not allow unescaped in a document (DEL, C1 controls, BOM, U+FFFE/U+FFFF) get `\uXXXX`.
 */
export function yamlQuote(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u0084\u0086-\u009f\ufeff\ufffe\uffff]/g, (char) => {
    return `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`;
  });
}

function sortedEntries(variables: Record<string, string>): Array<[string, string]> {
  return Object.keys(variables)
    .sort()
    .map((key) => [key, variables[key] ?? ""]);
}

/** One `"KEY": "value"` line per variable: a flat YAML mapping that any YAML 1.2 reader loads. */
export function formatYaml(variables: Record<string, string>): string {
  const lines = sortedEntries(variables).map(([key, value]) => `${yamlQuote(key)}: ${yamlQuote(value)}`);
  return lines.length === 0 ? "{}\n" : `${lines.join("\n")}\n`;
}

export function formatJson(variables: Record<string, string>): string {
  return `${JSON.stringify(Object.fromEntries(sortedEntries(variables)), null, 2)}\n`;
}

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

const ALPHANUMERIC = /[a-z0-9]/;

/** The text without the non-alphanumeric characters at its ends (a loop: `[^a-z0-9]+$` is quadratic). */
function trimToAlphanumeric(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && !ALPHANUMERIC.test(text[start] as string)) start += 1;
  while (end > start && !ALPHANUMERIC.test(text[end - 1] as string)) end -= 1;
  return text.slice(start, end);
}

/** A DNS-1123 subdomain name for the Secret, from the service name. */
export function kubernetesName(name: string): string {
  const cleaned = trimToAlphanumeric(trimToAlphanumeric(name.toLowerCase().replace(/[^a-z0-9.-]+/g, "-")).slice(0, 253));
  return cleaned === "" ? "latch" : cleaned;
}

/** A `v1/Secret` of type Opaque with every value base64-encoded in `data`. */
export function formatKubernetesSecret(name: string, variables: Record<string, string>): { text: string; skipped: string[] } {
  const skipped: string[] = [];
  const data: string[] = [];
  for (const [key, value] of sortedEntries(variables)) {
    if (!SECRET_KEY.test(key)) {
      skipped.push(key);
      continue;
    }
    data.push(`  ${key}: ${Buffer.from(value, "utf8").toString("base64")}`);
  }
  const lines = [
    "apiVersion: v1",
    "kind: Secret",
    "metadata:",
    `  name: ${yamlQuote(kubernetesName(name))}`,
    "  labels:",
    '    app.kubernetes.io/managed-by: "latch"',
    "type: Opaque",
    data.length === 0 ? "data: {}" : "data:",
    ...data,
  ];
  return { text: `${lines.join("\n")}\n`, skipped };
}

/** The bundle's variables in one format, and the keys that format cannot carry. */
export function formatVariables(
  format: ExportFormat,
  variables: Record<string, string>,
  serviceName: string,
): { text: string; skipped: string[] } {
  switch (format) {
    case "dotenv":
      return formatDotenv(variables);
    case "json":
      return { text: formatJson(variables), skipped: [] };
    case "yaml":
      return { text: formatYaml(variables), skipped: [] };
    case "k8s-secret":
      return formatKubernetesSecret(serviceName, variables);
  }
}
