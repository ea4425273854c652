// `latch audit list|verify|lookup`. verify runs against a server (LATCH_URL / `latch login`
// with an admin token) or, with --local or when no server is configured, read-only on the
// database the server uses (LATCH_DATA_DIR or DATABASE_URL): the chain needs no key to check.
// Exit 0: every chain intact; 1: a break, named on stderr.
import type { Command } from "commander";
import { createTransport } from "../../sdk/http.js";
import { action, CommandFailed, UsageError } from "../errors.js";
import { prompt, readStdin } from "../input.js";
import { type Column, print, printJson, printList } from "../output.js";
import { loadSettings } from "../settings.js";

interface ChainBreak {
  chain_id: string;
  seq: number;
  event_id: string | null;
  reason: string;
}

interface VerifyReport {
  intact: boolean;
  chains: number;
  events: number;
  /** Events written before their chain was keyed (checked by SHA-256 links only); absent from older servers. */
  legacy_events?: number;
  first_break: ChainBreak | null;
}

interface AuditEvent {
  id: string;
  seq: number;
  created_at: string;
  actor: { token_id: string | null; name: string };
  action: string;
  resource: { type: string; id: string | null };
  result: string;
  count: number;
}

/** What both the list and the lookup show of an event. */
const EVENT_COLUMNS: Column<AuditEvent>[] = [
  { title: "time", value: (event) => event.created_at },
  { title: "action", value: (event) => event.action },
  { title: "resource", value: (event) => `${event.resource.type} ${event.resource.id ?? "-"}` },
  { title: "actor", value: (event) => event.actor.name },
];

function transport() {
  const settings = loadSettings();
  if (settings.url === null)
    throw new UsageError("no server: run `latch login --url URL` or set LATCH_URL (or use `latch audit verify --local`)");
  if (settings.token === null) throw new UsageError("no token: run `latch login --url URL` or set LATCH_TOKEN (an admin token)");
  return createTransport({ url: settings.url, token: settings.token, userAgent: "latch-cli" });
}

/**
 * Read-only on the server's own database: the environment names it (and the root key, which
 * unseals the chain keys) as it does for `latch serve`.
 */
async function verifyLocally(organizationId: string | undefined): Promise<VerifyReport> {
  const { parseConfig } = await import("../../config.js");
  const { connect } = await import("../../db/connect.js");
  const { loadRootKeys } = await import("../../crypto/root-key.js");
  const { createKeyring } = await import("../../crypto/keyring.js");
  const { createChainKeys } = await import("../../modules/audit/audit-chain-keys.js");
  const { verifyChains } = await import("../../modules/audit/audit-verify.js");
  const config = parseConfig(process.env);
  const rootKeys = loadRootKeys(config, { generate: false });
  // No polls to serve: no read pool (on SQLite, no second connection).
  const storage = connect({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1, readPoolSize: 0 });
  try {
    const keyring = createKeyring({ db: storage.db, rootKeys });
    const chainKeys = createChainKeys({ db: storage.db, keyring, now: () => new Date() });
    return await verifyChains(storage.db, chainKeys, organizationId ?? null);
  } finally {
    await storage.close();
  }
}

function describeBreak(found: ChainBreak): string {
  const event = found.event_id === null ? "" : ` (${found.event_id})`;
  return `audit chain ${found.chain_id} is broken at event ${found.seq}${event}: ${found.reason}`;
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command("audit").description("the tamper-evident audit log (admin)");

  audit
    .command("verify")
    .description("walk the hash chains and report the first break (exit 1)")
    .option("--local", "read the database directly (LATCH_DATA_DIR or DATABASE_URL) instead of asking a server")
    .option("--org <id>", "only this organization's chains (one per audit lane)")
    .option("--json", "print the report as JSON")
    .action(
      action(async (options: { local?: boolean; org?: string; json?: boolean }) => {
        const settings = loadSettings();
        const local = options.local === true || settings.url === null;
        const report = local
          ? await verifyLocally(options.org)
          : (await transport().request<VerifyReport>("GET", "/v1/audit/verify", { query: { organization_id: options.org } })).body;
        if (options.json) printJson(report);
        if (report.first_break !== null) throw new CommandFailed(describeBreak(report.first_break));
        const legacy = report.legacy_events ? ` (${report.legacy_events} from before chains were keyed, checked by SHA-256 only)` : "";
        if (!options.json) print(`audit log intact: ${report.events} event(s) in ${report.chains} chain(s)${legacy}`);
      }),
    );

  audit
    .command("checkpoint")
    .description(
      "print a signed checkpoint of an organization's chains (each one's event count and head hash) as JSON, to keep outside Latch",
    )
    .option("--org <id>", "this organization's chains (instance-admin; an admin gets its own)")
    .action(
      action(async (options: { org?: string }) => {
        const query = options.org === undefined ? {} : { organization_id: options.org };
        printJson((await transport().request<unknown>("GET", "/v1/audit/checkpoint", { query })).body);
      }),
    );

  audit
    .command("public-key")
    .description("print the Ed25519 public key (PEM) that verifies audit checkpoints")
    .action(
      action(async () => {
        const key = (await transport().request<{ public_key_pem: string }>("GET", "/v1/audit/public-key")).body;
        print(key.public_key_pem.trimEnd());
      }),
    );

  audit
    .command("list")
    .description("list audit events, newest first")
    .option("--resource <id>", "events about this resource")
    .option("--actor <token-id>", "events by this token")
    .option("--action <action>", "this action (a trailing dot, e.g. `variable.`, for every action of a kind)")
    .option("--since <time>", "ISO-8601 time, inclusive")
    .option("--until <time>", "ISO-8601 time, exclusive")
    .option("--limit <n>", "at most this many events", "50")
    .option("--json", "print JSON")
    .action(
      action(
        async (options: {
          resource?: string;
          actor?: string;
          action?: string;
          since?: string;
          until?: string;
          limit: string;
          json?: boolean;
        }) => {
          const wanted = Number(options.limit);
          if (!Number.isInteger(wanted) || wanted < 1) throw new UsageError("--limit must be a positive whole number");
          const http = transport();
          const events: AuditEvent[] = [];
          let cursor: string | null = null;
          do {
            const query: Record<string, string | number | undefined> = {
              resource: options.resource,
              actor: options.actor,
              action: options.action,
              since: options.since,
              until: options.until,
              limit: Math.min(500, wanted - events.length),
              ...(cursor === null ? {} : { cursor }),
            };
            const page: { results: AuditEvent[]; next_cursor: string | null } = (
              await http.request<{ results: AuditEvent[]; next_cursor: string | null }>("GET", "/v1/audit", { query })
            ).body;
            events.push(...page.results);
            cursor = page.next_cursor;
          } while (cursor !== null && events.length < wanted);
          printList(
            events,
            [...EVENT_COLUMNS, { title: "result", value: (event) => (event.count > 1 ? `${event.result} ×${event.count}` : event.result) }],
            { ...(options.json ? { json: true } : {}), empty: "no audit events" },
          );
        },
      ),
    );

  audit
    .command("lookup")
    .description("which events touched a value (read from stdin or a hidden prompt, never from the command line)")
    .option("--org <id>", "the organization (the instance-admin searches every one otherwise)")
    .option("--json", "print JSON")
    .action(
      action(async (options: { org?: string; json?: boolean }) => {
        const raw = process.stdin.isTTY ? await prompt("Value: ", { hidden: true }) : await readStdin();
        const value = raw.replace(/\r?\n$/, "");
        if (value === "") throw new UsageError("no value: pipe it on stdin or type it at the prompt");
        const body = { value, ...(options.org === undefined ? {} : { organization_id: options.org }) };
        const { results } = (await transport().request<{ results: AuditEvent[] }>("POST", "/v1/audit/lookup", { body })).body;
        printList(results, EVENT_COLUMNS, { ...(options.json ? { json: true } : {}), empty: "no event concerns this value" });
      }),
    );
}
