// The client side of the `latch` command: everything that talks to a server through the SDK.
import type { Command } from "commander";
import { registerAgentCommand } from "./commands/agent.js";
import { registerAuditCommands } from "./commands/audit.js";
import { registerCredentialCommands } from "./commands/credentials.js";
import { registerRuntimeCommands } from "./commands/run.js";
import { registerTokenCommands } from "./commands/tokens.js";
import { registerTreeCommands } from "./commands/tree.js";
import { registerVariableCommands } from "./commands/vars.js";
import { registerWebhookCommands } from "./commands/webhooks.js";

export function registerClientCommands(program: Command): void {
  registerTokenCommands(program);
  registerTreeCommands(program);
  registerVariableCommands(program);
  registerCredentialCommands(program);
  registerRuntimeCommands(program);
  registerAuditCommands(program);
  registerAgentCommand(program);
  registerWebhookCommands(program);
}
