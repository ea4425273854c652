// What a call is refused with, in tests: the error of an expected class a promise rejects with
// (the test fails when it resolves, or rejects with anything else); and an instance
// administrator to call modules as.
import { AppError } from "../../src/errors.js";
import type { Principal } from "../../src/kernel/principal.js";

/** The `type` error `promise` rejects with. */
export async function rejectionOf<E extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
  expected = `expected a ${type.name}, the call succeeded`,
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(expected);
}

/** The AppError a module call rejects with. */
export const refusal = (promise: Promise<unknown>): Promise<AppError> => rejectionOf(promise, AppError);

/** An instance administrator (no scope), named for the test that acts as it. */
export function instanceAdmin(name: string): Principal {
  return { tokenId: name, name, role: "instance-admin", organizationId: null, projectId: null, environmentId: null, serviceId: null };
}
