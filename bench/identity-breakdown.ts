import { rmSync } from "node:fs";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { buildApp } from "../src/app.js";
import { inProcessStorage, openBench, seedR1 } from "./seed.js";

const count = Number(process.argv[2] ?? "3000");
const storage = inProcessStorage("a2");
const { dataDir } = storage;
const bench = await openBench(storage);
try {
  const r1 = await seedR1(bench, "a2b");
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k", alg: "RS256" };
  const identity = await bench.context.identities.create(bench.admin, {
    name: "breakdown",
    organization_id: bench.organizationId,
    service_id: r1.serviceId,
    issuer: "https://issuer.invalid",
    audiences: ["latch"],
    subject: "s",
    jwks: { keys: [jwk] },
  });
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: "k" })
    .setIssuer("https://issuer.invalid")
    .setAudience("latch")
    .setSubject("s")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(privateKey);
  const app = await buildApp({ context: bench.context });
  await app.ready();
  const url = `/v1/runtime/services/${r1.serviceId}`;
  const cases = {
    "R1 token": { authorization: `Token ${r1.token}` },
    "A2 JWT": { authorization: `Bearer ${jwt}`, "x-latch-identity": identity.id },
  };
  for (const round of [1, 2, 3]) {
    for (const [name, headers] of Object.entries(cases)) {
      const first = await app.inject({ method: "GET", url, headers });
      if (first.statusCode !== 200) throw new Error(`${name}: ${first.statusCode}`);
      const started = process.cpuUsage();
      const wall = performance.now();
      for (let i = 0; i < count; i += 1) await app.inject({ method: "GET", url, headers });
      const cpu = process.cpuUsage(started);
      const us = (cpu.user + cpu.system) / count;
      console.log(
        `round ${round} ${name}: ${us.toFixed(1)} µs CPU/request, ${(((performance.now() - wall) * 1000) / count).toFixed(1)} µs wall`,
      );
    }
  }
  await app.close();
} finally {
  await bench.close();
  rmSync(dataDir, { recursive: true, force: true });
}
