// The agent's config file: what it accepts, and errors that name the file, line and field.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AgentConfigError, parseAgentConfig, parseMode } from "../../src/cli/agent/config.js";

const dir = mkdtempSync(join(tmpdir(), "latch-agent-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(text: string): string {
  try {
    parseAgentConfig("agent.yaml", text);
  } catch (error) {
    if (error instanceof AgentConfigError) return error.message;
    throw error;
  }
  throw new Error("expected an AgentConfigError");
}

const yaml = (...lines: string[]) => `${lines.join("\n")}\n`;

describe("agent config", () => {
  it("reads a full YAML config: auth, services, templates from a file and inline, modes in octal", () => {
    const source = join(dir, "app.tmpl");
    writeFileSync(source, "A={{A}}");
    const config = parseAgentConfig(
      "agent.yaml",
      yaml(
        "url: https://latch.internal:8080",
        "auth:",
        "  identity: id-1",
        "  jwt_file: /var/run/secrets/tokens/latch",
        "wait: 120",
        "poll_interval: 10",
        "services:",
        "  - id: svc-1",
        "    templates:",
        `      - source: ${source}`,
        "        destination: /shared/app.env",
        "        mode: 0640",
        "        command: nginx -s reload",
        "      - contents: '{{B}}'",
        "        destination: /shared/b",
        "        signal: hup",
        "        pid_file: /run/app.pid",
      ),
    );
    expect(config).toEqual({
      url: "https://latch.internal:8080",
      auth: { kind: "identity", identity: "id-1", jwtFile: "/var/run/secrets/tokens/latch" },
      waitS: 120,
      pollIntervalS: 10,
      services: [
        {
          id: "svc-1",
          templates: [
            {
              name: source,
              text: "A={{A}}",
              destination: "/shared/app.env",
              mode: 0o640,
              command: "nginx -s reload",
              signal: null,
              pidFile: null,
            },
            {
              name: "services[0].templates[1].contents",
              text: "{{B}}",
              destination: "/shared/b",
              mode: 0o600,
              command: null,
              signal: "SIGHUP",
              pidFile: "/run/app.pid",
            },
          ],
        },
      ],
    });
  });

  it("reads JSON too, with defaults (wait 60 s, poll 5 s, mode 0600, the CLI's own auth)", () => {
    const config = parseAgentConfig(
      "agent.json",
      JSON.stringify({ services: [{ id: "s", templates: [{ contents: "{{A}}", destination: "out", mode: "0400" }] }] }),
    );
    expect(config).toMatchObject({ url: null, auth: { kind: "settings" }, waitS: 60, pollIntervalS: 5 });
    expect(config.services[0]?.templates[0]?.mode).toBe(0o400);
  });

  it("names the line and the field of each mistake", () => {
    const base = ["services:", "  - id: s", "    templates:"];
    const valid = [...base, "      - contents: x", "        destination: /x"];
    expect(errorOf(yaml(...base, "      - contents: x", "        destnation: /tmp/x"))).toBe(
      "agent.yaml:5: services[0].templates[0].destnation: unknown field (expected one of source, contents, destination, mode, command, signal, pid_file)",
    );
    expect(errorOf(yaml(...base, "      - contents: x"))).toBe("agent.yaml:4: services[0].templates[0].destination: is required");
    expect(errorOf(yaml(...base, "      - destination: /x"))).toMatch(
      /^agent\.yaml:4: services\[0\]\.templates\[0\]: needs exactly one of source/,
    );
    expect(errorOf(yaml(...base, "      - contents: x", "        destination: /x", "        mode: 0999"))).toMatch(
      /^agent\.yaml:6: services\[0\]\.templates\[0\]\.mode: must be an octal file mode/,
    );
    expect(
      errorOf(
        yaml(...base, "      - contents: x", "        destination: /x", "        command: a", "        signal: HUP", "        pid_file: p"),
      ),
    ).toBe("agent.yaml:4: services[0].templates[0]: takes command or signal, not both");
    expect(errorOf(yaml(...base, "      - contents: x", "        destination: /x", "        signal: NOPE", "        pid_file: p"))).toBe(
      "agent.yaml:6: services[0].templates[0].signal: is not a signal name (e.g. SIGHUP)",
    );
    expect(errorOf(yaml("auth:", "  token_file: /t", "  identity: i", ...valid))).toBe(
      "agent.yaml:2: auth: takes token_file, or identity with jwt_file, not both",
    );
    expect(errorOf(yaml("auth:", "  identity: i", ...valid))).toBe("agent.yaml:2: auth: identity and jwt_file go together");
    expect(errorOf(yaml("wait: 301", ...valid))).toBe("agent.yaml:1: wait: must be a number of seconds from 1 to 300");
    expect(errorOf(yaml("url: ftp://x", ...valid))).toBe("agent.yaml:1: url: must be an http:// or https:// URL");
    expect(errorOf(yaml("services: []"))).toBe("agent.yaml:1: services: must be a non-empty list");
    expect(errorOf(yaml("services:", "  - id: s", "    templates: []"))).toBe(
      "agent.yaml:3: services[0].templates: must be a non-empty list",
    );
    expect(
      errorOf(yaml(...base, "      - contents: x", "        destination: /same", "      - contents: y", "        destination: /same")),
    ).toBe("agent.yaml:2: services: two templates write /same");
    expect(errorOf(yaml(...base, "      - source: /no/such/template", "        destination: /x"))).toBe(
      "cannot read the template services[0].templates[0].source /no/such/template: ENOENT",
    );
  });

  it("reports a syntax error with its line, and does not quote the file", () => {
    const message = errorOf(yaml("services:", "  - id: s", "    templates: [", "      secret-looking-text"));
    expect(message).toMatch(/^agent\.yaml:\d+: not valid YAML or JSON: /);
    expect(message).not.toContain("secret-looking-text");
    expect(errorOf(yaml("services: 1", "services: 2"))).toMatch(/^agent\.yaml:\d+: not valid YAML or JSON: Map keys must be unique/);
  });

  it("reads file modes in octal however they are written", () => {
    expect(["0600", "600", "0o600", "0O600", "0640", "1777", "06000"].map(parseMode)).toEqual([
      0o600, 0o600, 0o600, 0o600, 0o640, 0o1777, 0o6000,
    ]);
    expect(["", "0800", "rw", "77777", "-1"].map(parseMode)).toEqual([null, null, null, null, null]);
  });
});
