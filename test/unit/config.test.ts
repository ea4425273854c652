import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.js";

const KEY = Buffer.alloc(32, 7).toString("base64");

function error(env: Record<string, string>): ConfigError {
  try {
    parseConfig(env, "/srv");
  } catch (caught) {
    if (caught instanceof ConfigError) return caught;
    throw caught;
  }
  throw new Error("parseConfig accepted the environment");
}

describe("parseConfig", () => {
  it("has defaults for everything", () => {
    const config = parseConfig({}, "/srv");
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 8080,
      dataDir: resolve("/srv", ".latch"),
      databaseUrl: null,
      databasePoolSize: 10,
      databaseReadPoolSize: 4,
      rootKey: null,
      rootKeyFile: null,
      oldRootKeys: [],
      bootstrapToken: null,
      trustProxy: false,
      tlsCertFile: null,
      tlsKeyFile: null,
      logLevel: "info",
      workers: true,
      exchangeRate: 250,
      exchangeConcurrency: 32,
      exchangePerOrganization: 8,
      exchangePerHost: 4,
      credentialCreatesPerMinute: 600,
      publicUrl: "http://127.0.0.1:8080",
      outboundAllowHttp: false,
      outboundAllowCidrs: [],
      metricsPublic: false,
      versionsKeep: 50,
      maxInFlight: 1024,
      maxEventLoopDelayMs: 200,
      overloadRetryAfterS: 1,
      logPolls: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads every variable it is given", () => {
    const config = parseConfig(
      {
        LATCH_HOST: "0.0.0.0",
        LATCH_PORT: "9000",
        LATCH_DATA_DIR: "data",
        DATABASE_URL: "postgres://u:p@db/latch",
        LATCH_ROOT_KEY: KEY,
        LATCH_OLD_ROOT_KEYS: `${Buffer.alloc(32, 1).toString("base64")}, ${Buffer.alloc(32, 2).toString("base64")}`,
        LATCH_BOOTSTRAP_TOKEN: "x".repeat(32),
        LATCH_LOG_LEVEL: "WARN",
        LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1, 10.0.0.0/8,fd00::/8",
        LATCH_MAX_IN_FLIGHT: "0",
        LATCH_MAX_EVENT_LOOP_DELAY_MS: "75",
        LATCH_OVERLOAD_RETRY_AFTER_S: "5",
        LATCH_LOG_POLLS: "on",
      },
      "/srv",
    );
    expect(config.port).toBe(9000);
    expect(config.dataDir).toBe("/srv/data");
    expect(config.rootKey?.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(config.oldRootKeys.map((key) => key[0])).toEqual([1, 2]);
    expect(config.logLevel).toBe("warn");
    expect(config.outboundAllowCidrs).toEqual(["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]);
    expect(config).toMatchObject({ maxInFlight: 0, maxEventLoopDelayMs: 75, overloadRetryAfterS: 5, logPolls: true });
  });

  it.each([
    ["1", true],
    ["0", false],
    ["true", true],
    ["FALSE", false],
    ["on", true],
    ["off", false],
  ])("reads the boolean %s as %s", (raw, expected) => {
    expect(parseConfig({ LATCH_TRUST_PROXY: raw }).trustProxy).toBe(expected);
    expect(parseConfig({ LATCH_WORKERS: raw }).workers).toBe(expected);
  });

  it("reads LATCH_TRUST_PROXY as the list of trusted proxy addresses and CIDRs", () => {
    expect(parseConfig({ LATCH_TRUST_PROXY: "10.0.0.0/8, 127.0.0.1,fd00::/8,Loopback" }).trustProxy).toEqual([
      "10.0.0.0/8",
      "127.0.0.1/32",
      "fd00::/8",
      "loopback",
    ]);
    for (const bad of ["10.0.0.0/33", "10.0.0.0/8,proxy.internal", "127.0.0.1,,maybe", " , "]) {
      expect(() => parseConfig({ LATCH_TRUST_PROXY: bad }), bad).toThrow(/LATCH_TRUST_PROXY: expected off, on \(trust every hop\)/);
    }
  });

  it.each([
    ["LATCH_PORT", "http"],
    ["LATCH_PORT", "70000"],
    ["DATABASE_URL", "mysql://db/latch"],
    ["LATCH_ROOT_KEY", "c2hvcnQ="],
    ["LATCH_OLD_ROOT_KEYS", `${KEY},nope`],
    ["LATCH_BOOTSTRAP_TOKEN", "too-short"],
    ["LATCH_TRUST_PROXY", "maybe"],
    ["LATCH_WORKERS", "2"],
    ["LATCH_LOG_LEVEL", "loud"],
    ["LATCH_PUBLIC_URL", "ftp://example.com"],
    ["LATCH_OUTBOUND_ALLOW_HTTP", "yes please"],
    ["LATCH_OUTBOUND_ALLOW_CIDRS", "10.0.0.0/33"],
    ["LATCH_OAUTH2_MIN_LIFETIME_S", "-1"],
    ["LATCH_OAUTH2_MIN_REFRESH_GAP_S", "1.5"],
    ["LATCH_JWT_MIN_LIFETIME_S", "soon"],
    ["LATCH_JWT_MIN_REFRESH_GAP_S", "99999999999"],
    ["LATCH_GOOGLE_AUTH_URL", "not a url"],
    ["LATCH_GOOGLE_TOKEN_URL", "file:///etc/passwd"],
    ["LATCH_METRICS_PUBLIC", "sometimes"],
    ["LATCH_VERSIONS_KEEP", "0"],
    ["LATCH_EXCHANGE_RATE", "fast"],
  ])("stops on a bad %s (%s) with a message naming it", (variable, value) => {
    const caught = error({ [variable]: value });
    expect(caught.variable).toBe(variable);
    expect(caught.message).toMatch(new RegExp(`^${variable}: expected .+`));
  });

  it("never echoes a key or token it refuses", () => {
    expect(error({ LATCH_BOOTSTRAP_TOKEN: "short-secret-token" }).message).not.toContain("short-secret-token");
    expect(error({ LATCH_ROOT_KEY: "c2VjcmV0LWtleQ==" }).message).not.toContain("c2VjcmV0LWtleQ==");
  });

  it("names the missing half of the TLS pair and refuses two root key sources", () => {
    expect(error({ LATCH_TLS_CERT_FILE: "/c.pem" }).variable).toBe("LATCH_TLS_KEY_FILE");
    expect(error({ LATCH_TLS_KEY_FILE: "/k.pem" }).variable).toBe("LATCH_TLS_CERT_FILE");
    expect(error({ LATCH_ROOT_KEY: KEY, LATCH_ROOT_KEY_FILE: "/k" }).variable).toBe("LATCH_ROOT_KEY_FILE");
  });

  it("treats empty values as unset and ignores empty list items", () => {
    const config = parseConfig({ LATCH_PORT: "  ", LATCH_OUTBOUND_ALLOW_CIDRS: " , 127.0.0.1/8 ,, " });
    expect(config.port).toBe(8080);
    expect(config.outboundAllowCidrs).toEqual(["127.0.0.1/8"]);
  });
});
