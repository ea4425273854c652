// The SDK client a command uses, built from the user's settings.
import { createLatchClient, type LatchClient } from "../sdk/index.js";
import { UsageError } from "./errors.js";
import { note } from "./output.js";
import { loadSettings } from "./settings.js";

export function clientFromSettings(): LatchClient {
  const settings = loadSettings();
  if (settings.url === null) throw new UsageError("no server: run `latch login --url URL` or set LATCH_URL");
  if (settings.token === null) throw new UsageError("no token: run `latch login --url URL` or set LATCH_TOKEN");
  return createLatchClient({
    url: settings.url,
    token: settings.token,
    userAgent: "latch-cli",
    onRetry: ({ attempt, delayMs, reason }) => note(`latch: ${reason}; retrying in ${Math.ceil(delayMs / 100) / 10}s (attempt ${attempt})`),
  });
}
