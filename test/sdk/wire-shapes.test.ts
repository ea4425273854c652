// Where the SDK cannot take the server's declaration itself, these checks fail when the two drift.
// The expectTypeOf lines are checked by `tsc -p tsconfig.json` (npm test's typecheck): what the SDK
// sends must be a body the server's request schema accepts, field by field. The SDK's runtime
// lists (it may not import server code) are compared with the server's by value.
import type { Static } from "@sinclair/typebox";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { IdentityCreate, IdentityPatch as IdentityPatchSchema } from "../../src/api/native/identity-schemas.js";
import type { TokenRequest } from "../../src/api/native/schemas.js";
import type { VariableEditRequest, VariableImportRequest, VariableRequest } from "../../src/api/qovery/variable-schemas.js";
import { API_VARIABLE_SCOPES } from "../../src/api/qovery/variable-schemas.js";
import { SERVICE_TYPES as SERVER_SERVICE_TYPES } from "../../src/modules/tree/tree-types.js";
import { WEBHOOK_EVENTS } from "../../src/modules/webhooks/webhook-types.js";
import {
  type IdentityInput,
  type IdentityPatch,
  SERVICE_TYPES,
  type TokenInput,
  VARIABLE_SCOPES,
  type VariableEdit,
  type VariableImportInput,
  type VariableInput,
} from "../../src/sdk/types.js";
import { WEBHOOK_EVENT_TYPES } from "../../src/sdk/webhooks.js";

describe("the SDK's wire shapes match the server's", () => {
  it("sends request bodies the server's schemas declare", () => {
    expectTypeOf<VariableInput>().toExtend<Static<typeof VariableRequest>>();
    expectTypeOf<VariableEdit>().toExtend<Static<typeof VariableEditRequest>>();
    expectTypeOf<VariableImportInput>().toExtend<Static<typeof VariableImportRequest>>();
    expectTypeOf<IdentityInput>().toExtend<Static<typeof IdentityCreate>>();
    expectTypeOf<IdentityPatch>().toExtend<Static<typeof IdentityPatchSchema>>();
    expectTypeOf<TokenInput>().toExtend<Static<typeof TokenRequest>>();
    // Every field the server requires, the SDK's input requires too.
    expectTypeOf<keyof VariableInput>().toEqualTypeOf<Exclude<keyof Static<typeof VariableRequest>, "secret_manager_access_id">>();
  });

  it("lists the same variable scopes and service types as the server", () => {
    expect([...VARIABLE_SCOPES]).toEqual([...API_VARIABLE_SCOPES]);
    expect([...SERVICE_TYPES].sort()).toEqual([...SERVER_SERVICE_TYPES].sort());
  });

  it("lists the same webhook event types as the server (the SDK needs the list at run time)", () => {
    expect([...WEBHOOK_EVENT_TYPES]).toEqual([...WEBHOOK_EVENTS]);
  });
});
