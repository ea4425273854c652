// Small readers for what `latch export` writes, so tests can parse every format back.

/** The flat YAML `latch export --format yaml` writes: one `"key": "value"` pair per line. */
export function readFlatYaml(text: string): Record<string, string> {
  const result = new Map<string, string>();
  if (text.trim() === "{}") return {};
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const match = /^("(?:[^"\\]|\\.)*"): ("(?:[^"\\]|\\.)*")$/.exec(line);
    if (match === null) throw new Error(`not a flat YAML line: ${line}`);
    result.set(JSON.parse(match[1] as string) as string, JSON.parse(match[2] as string) as string);
  }
  return Object.fromEntries(result);
}

/** The `data` of a Kubernetes Secret manifest as `latch export --format k8s-secret` writes it, decoded. */
export function readKubernetesSecret(text: string): { name: string; kind: string; data: Record<string, string> } {
  const lines = text.split("\n");
  const kind = /^kind: (\S+)$/m.exec(text)?.[1] ?? "";
  const name = JSON.parse(/^ {2}name: (".*")$/m.exec(text)?.[1] ?? '""') as string;
  const data = new Map<string, string>();
  const start = lines.indexOf("data:");
  if (start !== -1) {
    for (const line of lines.slice(start + 1)) {
      const match = /^ {2}([-._a-zA-Z0-9]+): ([A-Za-z0-9+/=]*)$/.exec(line);
      if (match === null) break;
      data.set(match[1] as string, Buffer.from(match[2] as string, "base64").toString("utf8"));
    }
  }
  return { name, kind, data: Object.fromEntries(data) };
}
