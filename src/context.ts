// The composition root: builds every store and service from the storage and the root keys.
// No module-level state anywhere else; tests build as many contexts as they like.
import type { Config } from "./config.js";
import { createKeyring } from "./crypto/keyring.js";
import type { RootKeys } from "./crypto/root-key.js";
import type { Storage } from "./db/connect.js";
import { createAccessService } from "./modules/access/access-service.js";
import { bootstrap } from "./modules/access/bootstrap.js";
import { createTokensStore } from "./modules/access/tokens-store.js";
import { createTreeService, type TreeHooks } from "./modules/tree/tree-service.js";
import { createTreeStore } from "./modules/tree/tree-store.js";

export interface ContextOptions {
  config: Config;
  storage: Storage;
  rootKeys: RootKeys;
  now?: () => Date;
}

export function createContext(options: ContextOptions) {
  const { config, storage, rootKeys } = options;
  const now = options.now ?? (() => new Date());
  const db = storage.db;
  const keyring = createKeyring({ db, rootKeys, now });
  const treeStore = createTreeStore(db);
  const tokensStore = createTokensStore(db);
  const hooks: TreeHooks[] = [];
  const tree = createTreeService({ db, store: treeStore, tokens: tokensStore, keyring, hooks, now });
  const access = createAccessService({ db, tokens: tokensStore, tree: treeStore, now });

  return {
    config,
    storage,
    db,
    now,
    keyring,
    treeStore,
    tokensStore,
    tree,
    access,
    /** Registered by modules that react to tree changes (BUILT_IN variables, caches). */
    treeHooks: hooks,
    bootstrap: () => bootstrap({ db, treeStore, tree, access, bootstrapToken: config.bootstrapToken }),
    async close(): Promise<void> {
      await storage.close();
    },
  };
}

export type Context = ReturnType<typeof createContext>;
