// First start on an empty database: an organization named `default` and the instance-admin
// token. The token is returned so `serve`/`init` can print it once; a token given through
// LATCH_BOOTSTRAP_TOKEN is used instead and not printed.
import { generateToken } from "../../crypto/tokens.js";
import { isUniqueViolation } from "../../db/errors.js";
import type { Db } from "../../db/types.js";
import type { TreeService } from "../tree/tree-service.js";
import type { TreeStore } from "../tree/tree-store.js";
import type { AccessService } from "./access-service.js";

export interface BootstrapResult {
  created: boolean;
  /** The generated token to print once; null when none was generated. */
  generatedToken: string | null;
}

export async function bootstrap(deps: {
  db: Db;
  treeStore: Pick<TreeStore, "countOrganizations">;
  tree: Pick<TreeService, "insertOrganization">;
  access: Pick<AccessService, "insertInstanceAdmin">;
  bootstrapToken: string | null;
}): Promise<BootstrapResult> {
  const token = deps.bootstrapToken ?? generateToken();
  try {
    const created = await deps.db.transaction().execute(async (tx) => {
      if ((await deps.treeStore.countOrganizations(tx)) > 0) return false;
      await deps.tree.insertOrganization(tx, { name: "default", plan: "ENTERPRISE", description: "created on first start" });
      await deps.access.insertInstanceAdmin(token, tx);
      return true;
    });
    return { created, generatedToken: created && deps.bootstrapToken === null ? token : null };
  } catch (error) {
    // Another replica bootstrapped the same empty database a moment earlier.
    if (isUniqueViolation(error)) return { created: false, generatedToken: null };
    throw error;
  }
}
