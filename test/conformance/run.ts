// The conformance run: one server, the Qovery client's rows, then the Reactor rows, and the report.
// Used by `npm run conformance` (scripts/conformance.ts, which writes docs/conformance.md) and by
// test/conformance/conformance.test.ts (which compares with the committed report).
import { implementedClientMethods, latchRoutes } from "./qovery-methods.js";
import { runQovery, SECRET_CANARY } from "./qovery-run.js";
import { REACTOR_PLANTED, runReactor } from "./reactor-run.js";
import { type Row, renderReport } from "./report.js";
import { startConformanceServer } from "./server.js";

/**
 * Rows whose fix is on another branch of this wave (issue #17 items 1, 2, 4, 5 on the Qovery
 * face; 10 to 13 on the Reactor face). They are written with the fixed behaviour as expected, so
 * they fail here and show as failing in the report; the test accepts exactly these failures.
 * The lead empties this list after merging those branches and runs `npm run conformance`.
 */
export const KNOWN_FAILING_UNTIL_MERGE: ReadonlySet<string> = new Set([
  // item 1: a legacy override without a value (D)
  "EnvironmentSecretApi.createEnvironmentSecretOverride: no value",
  "ApplicationSecretApi.createApplicationSecretOverride: no value",
  "ContainerSecretApi.createContainerSecretOverride: no value",
  "JobSecretApi.createJobSecretOverride: no value",
  "EnvironmentVariableApi.createEnvironmentEnvironmentVariableOverride: no value",
  "ApplicationEnvironmentVariableApi.createApplicationEnvironmentVariableOverride: no value",
  "ContainerEnvironmentVariableApi.createContainerEnvironmentVariableOverride: no value",
  "JobEnvironmentVariableApi.createJobEnvironmentVariableOverride: no value",
  // item 2: DELETE with a JSON content type and no body (D)
  "JobSecretApi.deleteJobSecret: JSON content type, no body",
  // item 4: upper-case UUIDs (D)
  "ProjectMainCallsApi.getProject: upper-case id",
  "JobSecretApi.listJobSecrets: upper-case id",
  "VariableMainCallsApi.editVariable: upper-case id",
  // item 5: strict body types, enum errors listing the allowed values (D)
  "ProjectSecretApi.createProjectSecret: number value",
  "VariableMainCallsApi.createVariable: string boolean",
  "VariableMainCallsApi.createVariable: unknown scope",
  // item 10: `test` semantics (E)
  "guide: test",
  "guide: test (failed secret)",
  // item 11: IMS org ids (E)
  "sdk: updateCompany (org_id)",
  "sdk: listCompanies (x-gw-ims-org-id)",
  // item 12: routes the SDK calls, 405 (E)
  "sdk: updateHost",
  "sdk: deleteHost (in use)",
  "sdk: deleteHost",
  "sdk: getLibraryForEnvironment",
  "sdk: listBuildsForEnvironment",
  "sdk: listDataElementsForSecret",
  "sdk: createNoteForProperty",
  "sdk: listNotesForProperty",
  "sdk: createNoteForEnvironment",
  "sdk: listNotesForEnvironment",
  "sdk: createNoteForHost",
  "sdk: listNotesForHost",
  "sdk: getProfile",
  "sdk: heartbeat",
  "method not allowed",
  // item 13: updated_at moves on asynchronous changes (E)
  "guide: retry (then lookup)",
]);

export interface ConformanceResult {
  rows: Row[];
  /** Qovery client methods Latch serves that got no row (must be empty). */
  uncovered: string[];
  /** Rows naming a client method that Latch does not serve (must be empty). */
  unknown: string[];
  /** Planted secret values found in an answer or a log line (must be empty). */
  leaks: string[];
  report: string;
}

export async function runConformance(): Promise<ConformanceResult> {
  const server = await startConformanceServer();
  try {
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const methods = await implementedClientMethods(latchRoutes(openapi, "/qovery"));
    const qovery = await runQovery(server.url, server.adminToken);
    const reactor = await runReactor(server);
    const names = new Set(methods.map((method) => method.name));
    const rows = [...qovery.rows, ...reactor.rows];
    // Hidden values must reach neither an answer (every body both clients received) nor the log.
    const seen = [...qovery.bodies, ...reactor.bodies, ...server.logs];
    const leaks = [SECRET_CANARY, ...REACTOR_PLANTED].filter((value) => seen.some((text) => text.includes(value)));
    return {
      rows,
      uncovered: [...names].filter((name) => !qovery.covered.has(name)),
      unknown: [...qovery.covered].filter((name) => !names.has(name)),
      leaks,
      report: renderReport(rows, { knownFailing: KNOWN_FAILING_UNTIL_MERGE, qoveryMethods: names.size }),
    };
  } finally {
    await server.close();
  }
}
