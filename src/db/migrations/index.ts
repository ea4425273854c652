// Migrations are frozen in time: they use Kysely<any> and import no application code.
// Add a new file for every change; never edit one that has shipped. (Column lists several of them
// write live once in shared-columns.ts, moved there with test/db/migrated-schema.test.ts proving
// the schema they create unchanged on both engines.)
import type { Kysely } from "kysely";
import * as m0001 from "./0001-foundation.js";
import * as m0002 from "./0002-variables.js";
import * as m0003 from "./0003-credentials.js";
import * as m0010 from "./0010-bundle-generations.js";
import * as m0030 from "./0030-ui-sessions.js";
import * as m0040 from "./0040-audit.js";
import * as m0041 from "./0041-versions.js";
import * as m0042 from "./0042-audit-outbox-claims.js";
import * as m0043 from "./0043-deferred-generation-bumps.js";
import * as m0051 from "./0051-sealed-keys.js";
import * as m0053 from "./0053-company-org-id.js";
import * as m0054 from "./0054-environments-host-index.js";
import * as m0055 from "./0055-identities.js";
import * as m0056 from "./0056-runtime-generations.js";
import * as m0057 from "./0057-webhooks.js";
import * as m0059 from "./0059-change-feed.js";
import * as m0060 from "./0060-environment-pages.js";
import * as m0061 from "./0061-lineage-in-creation-order.js";
import * as m0062 from "./0062-variables-environment-index-dropped.js";
import * as m0063 from "./0063-audit-lanes.js";
import * as m0064 from "./0064-generation-bumps-once.js";
import * as m0065 from "./0065-list-generations.js";

export interface FrozenMigration {
  up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void>;
}

export const migrations: Record<string, FrozenMigration> = {
  "0001-foundation": m0001,
  "0002-variables": m0002,
  "0003-credentials": m0003,
  "0010-bundle-generations": m0010,
  "0030-ui-sessions": m0030,
  "0040-audit": m0040,
  "0041-versions": m0041,
  "0042-audit-outbox-claims": m0042,
  "0043-deferred-generation-bumps": m0043,
  "0051-sealed-keys": m0051,
  "0053-company-org-id": m0053,
  "0054-environments-host-index": m0054,
  "0055-identities": m0055,
  "0056-runtime-generations": m0056,
  "0057-webhooks": m0057,
  "0059-change-feed": m0059,
  "0060-environment-pages": m0060,
  "0061-lineage-in-creation-order": m0061,
  "0062-variables-environment-index-dropped": m0062,
  "0063-audit-lanes": m0063,
  "0064-generation-bumps-once": m0064,
  "0065-list-generations": m0065,
};
