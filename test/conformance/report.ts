// One row per client method or guide request, and the markdown report written from them.
// Everything shown is deterministic: ids, times, ports and tokens are replaced by placeholders, so
// a regenerated report differs from the committed one only when behaviour changed.

export type Face = "Qovery" | "Reactor";

export interface Row {
  face: Face;
  /** `ClassName.method` for the Qovery client, the guide's section or the SDK call for Reactor. */
  name: string;
  request: string;
  expected: string;
  observed: string;
  pass: boolean;
}

/** Replaces what changes from run to run (ids, times, ports, secrets) by placeholders. */
export function stable(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<uuid>")
    .replace(/\b(CO|PR|HT|EN|SE|NT|DE)[0-9a-f]{32}\b/g, "<$1 id>")
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, "<time>")
    .replace(/127\.0\.0\.1:\d+/g, "<server>")
    .replace(/conformance-bootstrap-[0-9a-f]+/g, "<token>");
}

function cell(text: string): string {
  return stable(text).replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export const DEVIATIONS: Array<{ what: string; why: string }> = [
  {
    what: "Reactor `test` action: the token values in `meta.test_exchange` (`access_token`, `refresh_token`, `id_token`) are replaced by a fixed redaction marker.",
    why: "The guide shows the authorization service's raw answer. A token in an API answer would break Latch's first security rule (no value in any response but its own one-time answer); `expires_in`, `token_type`, `scope` and every other field are kept, so the test still diagnoses the exchange.",
  },
  {
    what: "Reactor `test` action is accepted on a secret of any status, not only on a succeeded one.",
    why: "Adobe's developer docs limit `test` to succeeded secrets; a failed secret is where a diagnostic is needed most. No Adobe client sends `test` expecting a refusal, so the extension cannot break one.",
  },
  {
    what: "Reactor: `GET /secrets/{id}/data_elements`, `GET /environments/{id}/library` and `GET /environments/{id}/builds` answer an empty collection or `data: null`.",
    why: "Latch has no data elements, libraries or builds; the routes exist so that SDK calls and relationship links resolve, in the right JSON:API shape.",
  },
  {
    what: "Qovery: services are bookkeeping only. Fields that describe a deployment carry fixed values that satisfy the client's models: an environment's `cluster_id` and `cloud_provider`, a service's resources, a port's `id` (derived from the service and the port's position) and `protocol` (`HTTP` unless given), and a job created without `source` reports an empty docker source (`{docker: {}}`).",
    why: "Latch keeps the tree that variables hang from and deploys nothing; a generated client or a Terraform-style tool must still parse every answer.",
  },
  {
    what: "Qovery: an organization's `owner` is the fixed uuid `00000000-0000-4000-8000-000000000001`.",
    why: "Qovery's `owner` is the creating user's id (a uuid); Latch has tokens, not users, and does not invent one per organization.",
  },
  {
    what: "Qovery variable answers (`Secret`, `EnvironmentVariable`, `VariableResponse`): an optional field without a value is `null` (`overridden_*`, `aliased_*`, `service_*` above the service scope, `description`), and so is the parent's `mount_path` inside an alias or override pointer; the client's models declare those fields optional or string but not nullable. The report's model check accepts `null` there and nowhere else.",
    why: 'Qovery\'s own API answers `null` for these in practice (shared spec, Qovery §3: `mount_path` "null in practice"; alias and override pointers are null on plain variables), and generated clients read `null` and an absent field alike.',
  },
];

export interface ReportOptions {
  /** Rows expected to fail until other branches merge (shown as failing, like any other). */
  knownFailing: ReadonlySet<string>;
  /** How many methods of the Qovery client Latch implements (all covered by rows). */
  qoveryMethods: number;
}

function table(rows: Row[], knownFailing: ReadonlySet<string>): string {
  const lines = ["| # | method / request | request | expected | observed | result |", "|---|---|---|---|---|---|"];
  rows.forEach((row, index) => {
    const result = row.pass ? "pass" : knownFailing.has(row.name) ? "**FAIL** (fix pending merge)" : "**FAIL**";
    lines.push(
      `| ${index + 1} | \`${cell(row.name)}\` | ${cell(row.request)} | ${cell(row.expected)} | ${cell(row.observed)} | ${result} |`,
    );
  });
  return lines.join("\n");
}

export function renderReport(rows: Row[], options: ReportOptions): string {
  const qovery = rows.filter((row) => row.face === "Qovery");
  const reactor = rows.filter((row) => row.face === "Reactor");
  const count = (list: Row[]) => `${list.filter((row) => row.pass).length} of ${list.length} pass`;
  return `# Conformance report

Written by \`npm run conformance\`; do not edit. The test \`test/conformance/conformance.test.ts\`
(part of \`npm test\`) regenerates it and fails when a row fails or when this file differs from the
regenerated one. The run starts a Latch server (SQLite in a temporary directory, a real
127.0.0.1 port, a loopback token endpoint) and drives it with:

- **(a) the real \`qovery-typescript-axios\` client**, unchanged: every method of its API classes
  whose request Latch serves (${options.qoveryMethods} methods, found by asking each method of the client for its
  request, so none is missed): the secret, environment-variable and \`/variable\` APIs and the
  organization / project / environment / service ("tree") APIs. Each successful answer is validated against
  the model the client declares for it, as JSON Schema generated from the client's \`api.ts\`
  (required fields, enums, nullability), with the formats Qovery's OpenAPI gives (\`id\` and
  \`owner\` uuid, \`created_at\` / \`updated_at\` date-time). Further rows check behaviours the
  client relies on (a body the client sends as \`{}\`, a global JSON content type, upper-case ids,
  strict body types).
- **(b) an SDK-shaped Reactor client** (\`test/helpers/reactor-client.ts\`: the wire behaviour of
  Adobe's \`reactor-sdk-javascript\`) over every request of the Reactor secrets guide, the set-up
  requests before them (companies, properties, hosts, environments) and the other routes the SDK
  calls.

A row marked "fix pending merge" expects behaviour that another branch of the same change is
fixing (issue #17); it fails here until that branch is merged and the report regenerated.

Ids, times and ports are shown as \`<uuid>\`, \`<SE id>\`, \`<time>\`, \`<server>\`.

## Summary

| face | rows | result |
|---|---|---|
| Qovery client (\`qovery-typescript-axios\`) | ${qovery.length} | ${count(qovery)} |
| Reactor guide and SDK routes | ${reactor.length} | ${count(reactor)} |

## (a) Qovery client

${table(qovery, options.knownFailing)}

## (b) Reactor guide and SDK

${table(reactor, options.knownFailing)}

## Documented deviations

Differences from Qovery's or Adobe's behaviour that are on purpose:

${DEVIATIONS.map((deviation) => `- ${deviation.what}\n  *Why:* ${deviation.why}`).join("\n")}
`;
}
