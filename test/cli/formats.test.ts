import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatJson, formatKubernetesSecret, formatYaml, kubernetesName, yamlQuote } from "../../src/cli/formats.js";
import { readFlatYaml, readKubernetesSecret } from "./readers.js";

const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,20}$/);
const value = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }));

describe("export formats", () => {
  it("YAML: every value reads back the same, one quoted pair per line", () => {
    fc.assert(
      fc.property(fc.dictionary(key, value), (variables) => {
        expect(readFlatYaml(formatYaml(variables))).toEqual({ ...variables });
      }),
      { numRuns: 300 },
    );
  });

  it("YAML: escapes the characters YAML forbids in a document", () => {
    expect(yamlQuote("a\u0085b\u007fc\ufeff")).toBe('"a\u0085b\\u007fc\\ufeff"');
    expect(yamlQuote("tab\there\nnew")).toBe('"tab\\there\\nnew"');
  });

  it("JSON: a flat object of the same values", () => {
    fc.assert(
      fc.property(fc.dictionary(key, value), (variables) => {
        expect(JSON.parse(formatJson(variables))).toEqual({ ...variables });
      }),
      { numRuns: 200 },
    );
  });

  it("Kubernetes Secret: base64 data decodes to the same values", () => {
    fc.assert(
      fc.property(fc.dictionary(key, fc.string({ unit: "grapheme" })), (variables) => {
        const { text, skipped } = formatKubernetesSecret("my service", variables);
        expect(skipped).toEqual([]);
        const secret = readKubernetesSecret(text);
        expect(secret).toEqual({ kind: "Secret", name: "my-service", data: { ...variables } });
      }),
      { numRuns: 200 },
    );
  });

  it("Kubernetes Secret: a valid object name and keys, skipping the keys Kubernetes refuses", () => {
    expect(kubernetesName("  My_App (prod) ")).toBe("my-app-prod");
    expect(kubernetesName("!!!")).toBe("latch");
    const { text, skipped } = formatKubernetesSecret("app", { GOOD: "1", "has space": "2" });
    expect(skipped).toEqual(["has space"]);
    expect(text).toContain("type: Opaque\ndata:\n  GOOD: MQ==\n");
  });
});
