// `--identity ID --jwt-file PATH | --jwt-env VAR`: the CLI logs in with the workload's JWT instead
// of a stored token. The JWT is read again at every login (Kubernetes rotates projected tokens
// in place), and a new login happens a minute before the runtime token expires or after a 401.
import { readFileSync } from "node:fs";
import { createLatchClient, type IdentityLogin, type LatchClient, LatchError, loginWithJwt } from "../sdk/index.js";
import { UsageError } from "./errors.js";
import { note } from "./output.js";
import { jwtFromEnvironment, loadSettings } from "./settings.js";

export interface JwtOptions {
  identity?: string;
  jwtFile?: string;
  jwtEnv?: string;
}

export interface JwtSource {
  identity: string;
  read(): string;
  describe: string;
}

const RENEW_BEFORE_MS = 60_000;

/** The JWT source the options name, or null when no --identity was given. */
export function jwtSourceOf(options: JwtOptions): JwtSource | null {
  if (options.identity === undefined) {
    if (options.jwtFile !== undefined || options.jwtEnv !== undefined)
      throw new UsageError("--jwt-file and --jwt-env go with --identity ID");
    return null;
  }
  if ((options.jwtFile === undefined) === (options.jwtEnv === undefined)) {
    throw new UsageError("--identity needs exactly one of --jwt-file PATH or --jwt-env VARIABLE");
  }
  const identity = options.identity;
  if (options.jwtFile !== undefined) {
    const file = options.jwtFile;
    return {
      identity,
      describe: file,
      read() {
        let text: string;
        try {
          text = readFileSync(file, "utf8");
        } catch (error) {
          throw new UsageError(`cannot read the JWT file ${file}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
        }
        if (text.trim() === "") throw new UsageError(`the JWT file ${file} is empty`);
        return text.trim();
      },
    };
  }
  const variable = options.jwtEnv as string;
  return {
    identity,
    describe: `$${variable}`,
    read() {
      const jwt = jwtFromEnvironment(variable);
      if (jwt === null) throw new UsageError(`the environment variable ${variable} is not set or empty`);
      return jwt;
    },
  };
}

function serverUrl(given?: string): string {
  const url = given ?? loadSettings().url;
  if (url === null) throw new UsageError("no server: pass --url URL or set LATCH_URL");
  return url;
}

/** One login with the JWT read now. */
export async function loginOnce(source: JwtSource, url?: string): Promise<IdentityLogin & { url: string }> {
  const base = serverUrl(url);
  try {
    const { client: _client, ...login } = await loginWithJwt({
      url: base,
      identityId: source.identity,
      jwt: source.read(),
      userAgent: "latch-cli",
    });
    return { ...login, url: base };
  } catch (error) {
    if (error instanceof LatchError && error.status === 401) {
      throw new LatchError(
        error.code,
        `the server did not accept the JWT from ${source.describe} for identity ${source.identity}; an admin can see why in the audit log (action identity.login)`,
        error.status,
        error.requestId,
      );
    }
    throw error;
  }
}

/** A client that stays logged in: renewed before expiry, and after a 401 on the next `current()`. */
export function createIdentitySession(source: JwtSource, url?: string) {
  let login: (IdentityLogin & { url: string }) | null = null;
  let client: LatchClient | null = null;
  return {
    async current(): Promise<{ client: LatchClient; login: IdentityLogin }> {
      if (login === null || client === null || Date.parse(login.expires_at) - Date.now() < RENEW_BEFORE_MS) {
        if (login !== null) note("latch: logging in again with the identity's JWT");
        login = await loginOnce(source, url);
        client = createLatchClient({ url: login.url, token: login.token, userAgent: "latch-cli" });
      }
      return { client, login };
    },
    /** The server refused the token (revoked): the next `current()` logs in again. */
    refused(): void {
      login = null;
      client = null;
    },
  };
}
